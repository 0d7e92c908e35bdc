package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.baton.coordinator.train.TrainRuns.TOTAL_STEPS;
import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.momentum;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code syncbn.group-size} in a real {@code baton train} (Spark, Aeron): each group of k replicas normalises over
 * its contiguous part of the global batch, so 4 replicas in groups of 2 train as 2 replicas that each normalise over
 * their own slice (group size 1), and not as 4 replicas synchronising all their statistics. "As" is per element of
 * the parameters and momentum, within {@value #FLOOR_MULTIPLE} x the float rounding measured on the same run with
 * another thread count or the other convolution engine ({@link RoundingFloor}); a 1 % learning-rate change must not
 * fit in that.
 */
class SyncBnGroupTrainTest
{
    private static final double FLOOR_MULTIPLE = 4;

    @TempDir
    Path work;

    @Test
    void fourReplicasInGroupsOfTwoTrainAsTwoReplicasWithTheirOwnStatistics() throws Exception
    {
        final String groups = work.resolve("4-in-groups-of-2").toString();
        final String output = train(config(groups, "train.replicas=4", "cluster.master=\"local[4]\"",
            "syncbn.group-size=2"), ResumeRequest.auto());
        assertTrue(output.contains("4 replicas (stage 0)"), output);

        // Float rounding in this trajectory (BN statistics over groups of 4 samples amplify it strongly).
        final String otherThreads = work.resolve("4-in-groups-of-2-with-2-threads").toString();
        train(config(otherThreads, "train.replicas=4", "cluster.master=\"local[4]\"", "syncbn.group-size=2",
            "train.threads-per-replica=2"), ResumeRequest.auto());
        // ... and with libnd4j's convolutions instead of oneDNN's direct ones (other algorithms, other sums): the
        // thread count alone hardly reorders 2-sample replicas' sums, the batch split compared below does
        final String otherEngine = work.resolve("4-in-groups-of-2-dl4j-convolutions").toString();
        train(config(otherEngine, "train.replicas=4", "cluster.master=\"local[4]\"", "syncbn.group-size=2",
            "model.conv-engine=dl4j"), ResumeRequest.auto());
        final RoundingFloor floor = RoundingFloor.of(groups, FLOOR_MULTIPLE, otherThreads, otherEngine);

        final String single = work.resolve("2-in-groups-of-1").toString();
        train(config(single, "syncbn.group-size=1"), ResumeRequest.auto());
        // Negative control: the same with a 1 % higher learning rate.
        final String otherLr = work.resolve("2-in-groups-of-1-lr").toString();
        train(config(otherLr, "syncbn.group-size=1", "optim.base-lr=0.0505"), ResumeRequest.auto());

        final String world = work.resolve("4-in-one-group").toString();
        train(config(world, "train.replicas=4", "cluster.master=\"local[4]\""), ResumeRequest.auto());

        // Elastic, 3 slots for 4 replicas in 2 groups: 2 replicas, one per group, the same trajectory.
        final String elastic = work.resolve("elastic-4-in-groups-of-2").toString();
        final String elasticOutput = train(config(elastic, "train.replicas=4", "cluster.master=\"local[3]\"",
            "syncbn.group-size=2", "elastic.min-replicas=2"), ResumeRequest.auto());
        assertTrue(elasticOutput.contains("ELASTIC: only 3 of 4 replicas can run; continuing with 2 replicas, global "
            + "batch 8, learning rate x 1.0000 (the 2 SyncBatchNorm groups kept, 1 replica(s) each) (global batch "
            + "kept)"), elasticOutput);

        floor.assertWithin("groups of 2 of 4 replicas vs 2 replicas with their own statistics", single);
        floor.assertOutside("one group of 4 replicas", world);
        floor.assertOutside("a 1 % learning-rate change", otherLr);
        floor.assertWithin("an elastic stage", elastic);
    }

    @Test
    void resumingWithAnotherNumberOfSyncBnGroupsIsATrajectoryChange() throws Exception
    {
        final BatonConfig fourInTwo = config("r", "train.replicas=4", "syncbn.group-size=2");
        assertEquals(List.of(),
            ConfigDiff.trajectory(fourInTwo, config("r", "train.replicas=2", "syncbn.group-size=1")),
            "2 groups either way");
        assertEquals(List.of(), ConfigDiff.trajectory(config("r"), config("r", "train.replicas=4")),
            "one group of all replicas either way");
        assertEquals("[SyncBatchNorm groups (train.replicas / syncbn.group-size): 2 (4 / 2) -> 1 (2 / 2)]",
            ConfigDiff.trajectory(fourInTwo, config("r", "train.replicas=2", "syncbn.group-size=2")).toString());
    }
}
