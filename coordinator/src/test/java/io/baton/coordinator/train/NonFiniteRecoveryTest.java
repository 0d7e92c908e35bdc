package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.run.ActivationProbe;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A NaN injected into one replica's batch: rollback with a lower learning rate, or the diagnosis when it repeats. */
class NonFiniteRecoveryTest
{
    @TempDir
    Path work;

    @Test
    void nanRollsBackToTheLastCheckpointWithALowerLearningRateAndFinishes() throws Exception
    {
        final String run = work.resolve("nan-once").toString();

        final String output = train(config(run, "debug.inject-nan-at-step=5", "debug.inject-nan-times=1",
            "recovery.nan-retries=2", "recovery.nan-lr-factor=0.25"), ResumeRequest.auto());

        assertTrue(output.contains("non-finite step 5: rolling back to the newest checkpoint with the learning rate "
            + "x 0.25 (rollback 1 of 2)"), output);
        assertTrue(output.contains("from step 4 ("), "rolled back to the checkpoint of step 4:\n" + output);
        final String events = Files.readString(Path.of(run, RunEvents.FILE));
        assertTrue(events.contains("\"event\":\"non-finite\"") && events.contains("\"event\":\"completed\""), events);
        try (CheckpointStore store = CheckpointStore.openReadOnly(TrainRuns.checkpointDir(run), new Configuration()))
        {
            assertEquals("0.25", store.open(8).metadata().extra().get("lr.scale"),
                "the lowered learning rate is recorded in later checkpoints");
            assertEquals("1.0", store.open(4).metadata().extra().get("lr.scale"));
        }
        final String metrics = Files.readString(Path.of(run, RunDirectory.METRICS));
        assertTrue(metrics.lines().filter(l -> l.contains("\"step\":5,")).count() == 1,
            "the non-finite step is not reported as a step:\n" + metrics);
    }

    @Test
    void repeatedNanEndsWithADiagnosisNamingTheFirstBadResidualBlock()
    {
        final String run = work.resolve("nan-always").toString();
        final BatonConfig config = config(run, "debug.inject-nan-at-step=2", "debug.inject-nan-times=100",
            "recovery.nan-retries=1");

        final TrainRuns.TrainFailed failed = assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config, ResumeRequest.auto()));

        final TrainingDivergedException diverged = assertInstanceOf(TrainingDivergedException.class,
            failed.getCause());
        final String firstBlock = ActivationProbe.blockVertices(TrainingRecipe.replicaGraph(config,
            new int[] {16, 16, 3}, 4)).get(0);
        assertTrue(diverged.getMessage().contains("step 2 was non-finite"), diverged.getMessage());
        assertTrue(diverged.getMessage().contains("first residual block with non-finite or huge (> 1.00e+06) "
            + "activations: " + firstBlock + " (max |a| = NaN)"), diverged.getMessage());
        assertTrue(diverged.getMessage().contains("the input batch itself is non-finite"), diverged.getMessage());
        assertTrue(diverged.getMessage().contains("gave up after 1 rollback(s)"), diverged.getMessage());
    }
}
