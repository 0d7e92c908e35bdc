package io.baton.coordinator.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.trainer.run.RunJson;
import io.baton.trainer.run.StepMetrics;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The run files' one JSON writer ({@link RunJson}) and their readers agree on non-finite numbers: a metrics line
 * holding NaN and both infinities is strict JSON (a reader with default settings parses it), keeps its field names,
 * and comes back through {@link JsonLines} with the same values.
 */
class RunJsonRoundTripTest
{
    private static final StepMetrics NON_FINITE = new StepMetrics(41, 2, 1, 20, Double.POSITIVE_INFINITY, Double.NaN,
        0.25, 64, Double.NEGATIVE_INFINITY, 12.34567, 1.0, Double.NaN, Double.POSITIVE_INFINITY,
        1, 3);

    @Test
    void shouldReadBackNanAndInfinitiesOfAMetricsLineAsTheWriterWroteThem() throws Exception
    {
        final String line = NON_FINITE.toJson();
        assertEquals(-1, line.indexOf('\n'), line);

        final JsonNode strict = new ObjectMapper().readTree(line);
        assertEquals(List.of("step", "epoch", "step_in_epoch", "steps_per_epoch", "lr", "loss", "top1", "images",
            "images_per_sec", "step_ms", "data_wait_ms", "comm_ms", "grad_norm", "rejected_messages"), names(strict));
        assertEquals("NaN", strict.get("loss").textValue(), line);
        assertEquals("Infinity", strict.get("lr").textValue(), line);
        assertEquals("-Infinity", strict.get("images_per_sec").textValue(), line);

        final JsonLines lines = JsonLines.parse(line + "\n" + line + "\n");
        assertEquals(2, lines.rows().size());
        assertEquals(0, lines.skipped());
        final JsonNode row = lines.last();
        assertEquals(41, row.get("step").asLong());
        assertTrue(Double.isNaN(RunJson.number(row.get("loss"))));
        assertTrue(Double.isNaN(RunJson.number(row.get("comm_ms"))));
        assertEquals(Double.POSITIVE_INFINITY, RunJson.number(row.get("lr")));
        assertEquals(Double.POSITIVE_INFINITY, RunJson.number(row.get("grad_norm")));
        assertEquals(Double.NEGATIVE_INFINITY, RunJson.number(row.get("images_per_sec")));
        assertEquals(0.25, RunJson.number(row.get("top1")));
        assertEquals(12.346, RunJson.number(row.get("step_ms")), "times are rounded to three decimals");
        assertEquals(3, row.get("rejected_messages").asLong(), "rank 0's line carries the whole job's count");
    }

    @Test
    void shouldReadBareNonNumericTokensWrittenByAnotherTool()
    {
        final JsonLines lines = JsonLines.parse("{\"step\":1,\"loss\":NaN,\"lr\":-Infinity,\"top1\":Infinity}\n");
        assertEquals(0, lines.skipped());
        final JsonNode row = lines.last();
        assertTrue(Double.isNaN(RunJson.number(row.get("loss"))));
        assertEquals(Double.NEGATIVE_INFINITY, RunJson.number(row.get("lr")));
        assertEquals(Double.POSITIVE_INFINITY, RunJson.number(row.get("top1")));
    }

    @Test
    void shouldShowNonFiniteValuesAsGapsInTheReportData()
    {
        final String page = ReportPage.render("run", JsonLines.parse(NON_FINITE.toJson() + "\n"), JsonLines.parse(null),
            JsonLines.parse(null), null, "now");
        assertTrue(page.contains("[41.0,2.0,1.0,20.0,null,null,0.25,64.0,null,12.346,1.0,null,null]"),
            "non-finite values become gaps (null), finite ones keep their values");
    }

    private static List<String> names(final JsonNode node)
    {
        final List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
