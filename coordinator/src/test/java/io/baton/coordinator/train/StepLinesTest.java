package io.baton.coordinator.train;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StepLinesTest
{
    @TempDir
    Path dir;

    private static String lines(final int from, final int to)
    {
        final StringBuilder text = new StringBuilder();
        for (int step = from; step < to; step++)
        {
            text.append("{\"step\":").append(step).append(",\"loss\":1.0}\n");
        }
        return text.toString();
    }

    private String openAndWrite(final boolean append, final long checkpointStep, final String extra) throws Exception
    {
        try (FSDataOutputStream out = StepLines.open(new RunDirectory(dir.toString()), "metrics.jsonl", append,
            checkpointStep))
        {
            out.write(extra.getBytes(StandardCharsets.UTF_8));
        }
        return Files.readString(dir.resolve("metrics.jsonl"));
    }

    @Test
    void aStageResumingFromACheckpointRemovesTheStepsWrittenAfterItAndAHalfWrittenLine() throws Exception
    {
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 9) + "{\"step\":9,\"lo");
        assertEquals(lines(0, 7), openAndWrite(true, 6, lines(6, 7)));
        try (var files = Files.list(dir))
        {
            assertEquals(1, files.count(), "no staging file left");
        }
    }

    @Test
    void aFileEndingBeforeTheCheckpointIsAppendedToAsItIs() throws Exception
    {
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 6));
        assertEquals(lines(0, 8), openAndWrite(true, 6, lines(6, 8)));
    }

    @Test
    void aStageStartingAgainFromTheInitialWeightsKeepsNoEarlierStep() throws Exception
    {
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 4));
        assertEquals(lines(0, 1), openAndWrite(true, -1, lines(0, 1)));
    }

    @Test
    void afterAnElasticStageOnlyTheTailInTheCheckpointsNumberingIsCut() throws Exception
    {
        // Steps 0-39 at the configured batch, then (from the checkpoint of step 40) steps 53-60 at a smaller one.
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 40) + lines(53, 61));
        assertEquals(lines(0, 40) + lines(53, 58), openAndWrite(true, 58, ""));
        // A corrupt newer checkpoint: back to the one of step 40, from before the elastic stage.
        assertEquals(lines(0, 40), openAndWrite(true, 40, ""));
    }

    @Test
    void aTailWindowDecidesOnlyOnWholeLinesAndAsksForMoreWhenItHoldsNoEarlierStep()
    {
        final byte[] text = (lines(0, 10) + "{\"step\":10,\"lo").getBytes(StandardCharsets.UTF_8);
        final int cut = lines(0, 10).length() - 5; // inside the line of step 9
        final byte[] window = java.util.Arrays.copyOfRange(text, cut, text.length);
        // The window's first bytes end the line of step 9 and are not judged; its whole lines are steps 10- (none).
        assertEquals(-1, StepLines.keptLength(window, 10, false));
        final byte[] wider = java.util.Arrays.copyOfRange(text, lines(0, 7).length() - 3, text.length);
        assertEquals(lines(0, 9).length() - (lines(0, 7).length() - 3), StepLines.keptLength(wider, 9, false));
        assertEquals(lines(0, 10).length(), StepLines.keptLength(text, 10, true));
    }

    @Test
    void aLongFileIsCutFromItsTail() throws Exception
    {
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 40_000));
        assertEquals(lines(0, 39_001), openAndWrite(true, 39_000, lines(39_000, 39_001)));
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 40_000));
        assertEquals(lines(0, 2), openAndWrite(true, 1, lines(1, 2)));
    }

    @Test
    void aNewRunReplacesTheFile() throws Exception
    {
        Files.writeString(dir.resolve("metrics.jsonl"), lines(0, 4));
        assertEquals(lines(0, 1), openAndWrite(false, -1, lines(0, 1)));
    }
}
