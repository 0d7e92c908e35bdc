package io.baton.coordinator.train;

import io.baton.coordinator.report.RunReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Step lines on a store without append (objstore://, a local directory with S3's semantics: no append, files appear
 * when closed): a stage writes segments, readers join them and see what {@link StepLines} leaves in an appended file.
 */
class StepSegmentsTest
{
    @TempDir
    Path dir;

    private RunDirectory run()
    {
        return new RunDirectory("objstore://" + dir.toAbsolutePath());
    }

    private static String lines(final int from, final int to)
    {
        final StringBuilder text = new StringBuilder();
        for (int step = from; step < to; step++)
        {
            text.append("{\"step\":").append(step).append(",\"loss\":1.0}\n");
        }
        return text.toString();
    }

    /** A stage: opens the sink as TrainTask's rank 0 does and writes the lines of steps [from, to). */
    private void stage(final boolean append, final long checkpointStep, final int from, final int to)
        throws Exception
    {
        try (StepLines.Sink sink = StepLines.sink(run(), RunDirectory.METRICS, append, checkpointStep))
        {
            for (final String line : lines(from, to).split("\n"))
            {
                if (!line.isEmpty())
                {
                    sink.write(line);
                }
            }
        }
    }

    @Test
    void aStoreWithoutAppendGetsSegmentsAndNoSingleFile() throws Exception
    {
        stage(false, -1, 0, 5);
        assertFalse(Files.exists(dir.resolve(RunDirectory.METRICS)));
        assertTrue(Files.isDirectory(dir.resolve("metrics.jsonl.segments")));
        assertEquals(lines(0, 5), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void aResumedStageDropsTheStepsWrittenAfterItsCheckpoint() throws Exception
    {
        stage(false, -1, 0, 9);
        stage(true, 6, 6, 8);
        assertEquals(lines(0, 8), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void aStageThatWroteNothingStillCutsWhatCameAfterItsCheckpoint() throws Exception
    {
        stage(false, -1, 0, 9);
        stage(true, 4, 4, 4);
        assertEquals(lines(0, 4), run().readStepLines(RunDirectory.METRICS));
        assertEquals("{\"step\":3,\"loss\":1.0}", StepSegments.lastLine(run(), RunDirectory.METRICS, Set.of()));
    }

    @Test
    void aStageStartingAgainFromTheInitialWeightsKeepsNoEarlierStep() throws Exception
    {
        stage(false, -1, 0, 4);
        stage(true, -1, 0, 1);
        assertEquals(lines(0, 1), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void afterAnElasticStageOnlyTheTailInTheCheckpointsNumberingIsCut() throws Exception
    {
        stage(false, -1, 0, 45);
        stage(true, 40, 53, 61);      // elastic: from the checkpoint of step 40, numbered 53- at a smaller batch
        stage(true, 58, 58, 58);
        assertEquals(lines(0, 40) + lines(53, 58), run().readStepLines(RunDirectory.METRICS));
        stage(true, 40, 40, 42);      // a corrupt newer checkpoint: back to step 40, before the elastic stage
        assertEquals(lines(0, 42), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void aNewRunReplacesTheSegmentsAndAnEarlierSingleFile() throws Exception
    {
        Files.writeString(dir.resolve(RunDirectory.METRICS), lines(0, 3));
        stage(false, -1, 0, 2);
        assertFalse(Files.exists(dir.resolve(RunDirectory.METRICS)));
        assertEquals(lines(0, 2), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void aRunMovedOntoTheStoreResumesAfterItsSingleFile() throws Exception
    {
        // Written where append works (or by an older Baton), resumed on a store without it.
        Files.writeString(dir.resolve(RunDirectory.METRICS), lines(0, 9) + "{\"step\":9,\"lo");
        stage(true, 6, 6, 10);
        assertEquals(lines(0, 10), run().readStepLines(RunDirectory.METRICS));
    }

    @Test
    void partsRollSoAStoreThatShowsFilesOnlyWhenClosedShowsProgress() throws Exception
    {
        final RunDirectory run = run();
        try (StepSegments.Writer writer = StepSegments.open(run, RunDirectory.METRICS, false, -1, Duration.ZERO))
        {
            writer.write("{\"step\":0,\"loss\":1.0}");
            writer.write("{\"step\":1,\"loss\":1.0}");
            // Still writing: both lines are already readable, each in its closed part.
            assertEquals(lines(0, 2), run.readStepLines(RunDirectory.METRICS));
        }
        try (StepSegments.Writer writer = StepSegments.open(run, RunDirectory.METRICS, true, -1, Duration.ofHours(1)))
        {
            writer.write("{\"step\":0,\"loss\":2.0}");
            // The open part is not on the store yet; the stage's start (empty part 0) is, and it cut the old lines.
            assertEquals("", run.readStepLines(RunDirectory.METRICS));
        }
        assertEquals("{\"step\":0,\"loss\":2.0}\n", run.readStepLines(RunDirectory.METRICS));
    }

    @Test
    void theLastLineSkipsSegmentsAReaderAlreadySawAndLinesALaterStageDropped() throws Exception
    {
        stage(false, -1, 0, 9);
        final Set<String> before = StepSegments.names(run(), RunDirectory.METRICS);
        assertNull(StepSegments.lastLine(run(), RunDirectory.METRICS, before));
        stage(true, 6, 6, 7);
        assertEquals("{\"step\":6,\"loss\":1.0}", StepSegments.lastLine(run(), RunDirectory.METRICS, before));
    }

    @Test
    void theReportJoinsTheSegments() throws Exception
    {
        stage(false, -1, 0, 9);
        stage(true, 6, 6, 8);
        final String html = RunReport.render(run());
        assertTrue(html.contains("metrics"), "rendered");
    }

    @Test
    void eventsAreRewrittenWholeWhereTheStoreCannotAppend() throws Exception
    {
        assertThrows(UnsupportedOperationException.class,
            () -> run().fileSystem().append(run().path("x")));
        final RunEvents events = new RunEvents(run());
        events.record("start", Map.of("step", 0), false);
        events.record("resume", Map.of("checkpoint", "ckpt-1"), false);
        final String text = Files.readString(dir.resolve(RunDirectory.EVENTS));
        assertEquals(2, text.split("\n").length, text);
        assertTrue(text.startsWith("{\"event\":\"start\"") && text.contains("\n{\"event\":\"resume\""), text);
    }
}
