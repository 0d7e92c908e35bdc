package io.baton.coordinator.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsTailTest
{
    @TempDir
    Path dir;

    private MetricsTail tail()
    {
        return new MetricsTail(new RunDirectory(dir.toString()), RunDirectory.METRICS);
    }

    private void append(final String text) throws Exception
    {
        Files.writeString(dir.resolve(RunDirectory.METRICS), text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void givesTheWholeLinesAppendedSinceTheLastCallOnceAndHoldsBackALineStillBeingWritten() throws Exception
    {
        final MetricsTail tail = tail();
        assertEquals(List.of(), tail.newLines(), "no file yet");
        assertTrue(tail.singleFile());
        append("{\"step\":0}\n{\"step\":1}\n{\"st");
        assertEquals(List.of("{\"step\":0}", "{\"step\":1}"), tail.newLines());
        assertEquals(List.of(), tail.newLines(), "nothing new, and the third line has no newline yet");
        append("ep\":2}\n");
        assertEquals(List.of("{\"step\":2}"), tail.newLines());
    }

    @Test
    void skipsTheLinesOfEarlierJobsAndStartsAgainFromTheTopWhenTheFileIsCut() throws Exception
    {
        append("{\"step\":0}\n{\"step\":1}\n{\"step\":2}\n");
        final MetricsTail tail = tail();
        assertEquals(List.of(), tail.newLines(), "written before the tail was made");
        append("{\"step\":3}\n");
        assertEquals(List.of("{\"step\":3}"), tail.newLines());
        // A stage resumed from the checkpoint of step 1 cut the file there and trained step 1 again.
        Files.writeString(dir.resolve(RunDirectory.METRICS), "{\"step\":0}\n{\"step\":1}\n");
        assertEquals(List.of("{\"step\":0}", "{\"step\":1}"), tail.newLines());
    }

    @Test
    void aLogKeptAsSegmentsIsNotASingleFile() throws Exception
    {
        final RunDirectory run = new RunDirectory(dir.toString());
        Files.createDirectories(Path.of(StepSegments.directory(run, RunDirectory.METRICS).toUri()));
        assertFalse(tail().singleFile());
    }
}
