package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressMonitorTest
{
    /** 10 steps per epoch, 10 epochs: 100 steps. */
    private static final TrainPlan PLAN = new TrainPlan(2, 64, 32, 640, 64, 10, 10, 10, "");
    private static final long S = 1_000_000_000L;

    @TempDir
    Path dir;

    private static String metrics(final long step)
    {
        return "{\"step\":" + step + ",\"epoch\":" + step / 10 + ",\"lr\":0.1,\"loss\":1.5,\"images_per_sec\":100.0}\n";
    }

    private static JsonNode json(final long step) throws Exception
    {
        return new ObjectMapper().readTree(metrics(step));
    }

    private ProgressMonitor monitor(final StringWriter text)
    {
        // A long interval: the test polls by hand.
        return new ProgressMonitor(new RunDirectory(dir.toString()), PLAN, new PrintWriter(text, true),
            Duration.ofHours(1));
    }

    @Test
    void theEtaExtrapolatesThePaceOfTheStepsThisJobDidNotTheStepsBeforeAResume() throws Exception
    {
        try (ProgressMonitor progress = monitor(new StringWriter()))
        {
            // Resumed at step 50: the first step seen gives no pace yet.
            assertTrue(progress.line(json(49), 0).endsWith("step 50/100 (50%)  100.0 images/s  loss 1.5000  "
                + "lr 0.10000  ETA ?"), progress.line(json(49), 0));
            // 10 steps in 10 s: 40 steps to go take 40 s (not 60 s of this job / 60 steps done x 40).
            assertTrue(progress.line(json(59), 10 * S).endsWith("ETA 0m40s"), progress.line(json(59), 10 * S));
            // Back to step 40 (a stage resumed from an earlier checkpoint): the pace is measured afresh.
            assertTrue(progress.line(json(39), 20 * S).endsWith("ETA ?"));
            assertTrue(progress.line(json(49), 25 * S).endsWith("ETA 0m25s"), progress.line(json(49), 25 * S));
        }
    }

    @Test
    void linesWrittenBeforeTheJobStartedAreNotReportedAndACutFileIsReadFromItsStart() throws Exception
    {
        final Path file = dir.resolve(RunDirectory.METRICS);
        Files.writeString(file, metrics(0) + metrics(1) + metrics(2) + metrics(3));
        final StringWriter text = new StringWriter();
        try (ProgressMonitor progress = monitor(text))
        {
            progress.poll();
            assertEquals("", text.toString(), "an earlier job's steps");
            Files.writeString(file, metrics(4), StandardOpenOption.APPEND);
            progress.poll();
            assertTrue(text.toString().startsWith("epoch 1/10  step 5/100 (5%)"), text.toString());
            // The next stage resumes from the checkpoint of step 2 and cuts the file there, then trains step 2.
            Files.writeString(file, metrics(0) + metrics(1) + metrics(2));
            progress.poll();
            assertTrue(text.toString().contains("\nepoch 1/10  step 3/100 (3%)"), text.toString());
        }
    }
}
