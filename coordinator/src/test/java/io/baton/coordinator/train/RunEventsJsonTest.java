package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.trainer.run.RunJson;
import io.baton.trainer.run.TrainOutcome;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Run events and the summary are written by the run files' one JSON writer with the field names and value forms they always had. */
class RunEventsJsonTest
{
    @Test
    void shouldWriteAnEventAsStrictJsonWithItsFieldsInOrder() throws Exception
    {
        final Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("stage", 3);
        fields.put("loss", 1.23456789);
        fields.put("bad", Double.NaN);
        fields.put("error", "a \"quoted\" path\\x\nsecond line");
        fields.put("moved", true);
        final String line = RunJson.line(RunEvents.event("stage-failed", 1700000000000L, fields));

        final JsonNode node = new ObjectMapper().readTree(line);
        assertEquals("{\"event\":\"stage-failed\",\"time_ms\":1700000000000,\"stage\":3,\"loss\":1.23457,"
            + "\"bad\":\"NaN\",\"error\":\"a \\\"quoted\\\" path\\\\x\\nsecond line\",\"moved\":\"true\"}", line);
        assertEquals("a \"quoted\" path\\x\nsecond line", node.get("error").textValue());
    }

    @Test
    void shouldWriteTheSummaryWithNullForANonFiniteLossAsItsReadersExpect() throws Exception
    {
        final ReplicaReport r0 = new ReplicaReport(0, 4, 1.23456, Double.NaN, 0.5, Double.POSITIVE_INFINITY, 2.5, 96,
            0xabcL, "", TrainOutcome.Kind.values()[0], 12, "");
        final String summary = RunSummary.summaryJson(r0, new TrainPlan(2, 64, 32, 640, 64, 10, 10, 10, ""));
        assertEquals("{\"steps\":12,\"last_stage_steps\":4,\"seconds\":1.235,\"last_loss\":null,\"val_top1\":0.5,"
            + "\"val_top5\":null,\"val_loss\":2.5,\"val_samples\":96,\"world_size\":2,\"global_batch\":64,"
            + "\"epochs\":10,\"params_checksum\":\"abc\"}\n", summary);
        new ObjectMapper().readTree(summary);
    }
}
