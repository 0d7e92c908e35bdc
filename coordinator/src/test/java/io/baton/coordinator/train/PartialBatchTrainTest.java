package io.baton.coordinator.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train.drop-last = false} end to end: the last global batch of each epoch is smaller than the others and is
 * cut into uneven replica slices, which a real {@code baton train} trains on. A last batch smaller than the replicas
 * would leave a replica an empty slice and is refused before the run (TrainCommandInputTest).
 */
class PartialBatchTrainTest
{
    @TempDir
    Path work;

    @Test
    void lastPartialBatchIsTrainedInUnevenSlices() throws Exception
    {
        // 35 samples in batches of 8: 4 full batches and one of 3, sliced 1 + 2 between the 2 replicas.
        final String run = work.resolve("keep-last").toString();
        final String output = train(config(run, "train.drop-last=false", "data.synthetic-samples=35"),
            ResumeRequest.auto());

        assertTrue(output.contains("2 replicas (stage 0), global batch 8, from step 0 ("), output);
        assertEquals(10, Files.readAllLines(Path.of(run, RunDirectory.METRICS)).size(), "5 steps in each of 2 epochs");
        for (final float value : params(run, 10))
        {
            assertTrue(Float.isFinite(value), "a non-finite parameter after training on uneven slices");
        }
    }
}
