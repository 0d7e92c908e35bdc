package io.baton.coordinator.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The elastic batch/LR policy, the re-warmup ramp and the position conversion between global batches. */
class ElasticPlanTest
{
    @Test
    void allConfiguredReplicasKeepTheConfiguredBatchEvenWhenUneven()
    {
        assertEquals(new ElasticPlan(3, 8, 1.0), ElasticPlan.of(8, 3, 3));
        assertEquals(new ElasticPlan(3, 8, 1.0), ElasticPlan.of(8, 3, 5));
    }

    @Test
    void fewerReplicasThatDivideTheBatchKeepIt()
    {
        assertEquals(new ElasticPlan(2, 256, 1.0), ElasticPlan.of(256, 4, 2));
        assertEquals(new ElasticPlan(1, 8, 1.0), ElasticPlan.of(8, 2, 1));
    }

    @Test
    void fewerReplicasThatDoNotDivideTheBatchUseTheLargestMultipleBelowWithLinearlyScaledLr()
    {
        final ElasticPlan plan = ElasticPlan.of(256, 4, 3);
        assertEquals(3, plan.worldSize());
        assertEquals(255, plan.globalBatch());
        assertEquals(255.0 / 256, plan.lrScale(), 0);
    }

    @Test
    void withSyncBnGroupsFewerReplicasKeepTheNumberOfGroups()
    {
        // 8 replicas in 4 groups of 2, 7 can run: 4 (the 4 groups, one replica each), which divide the batch.
        assertEquals(new ElasticPlan(4, 96, 1.0), ElasticPlan.of(96, 8, 7, 2));
        // 8 in 2 groups of 4, 7 can run: 6 (2 groups of 3); all 8: unchanged; group size 0 = one group, any size.
        assertEquals(new ElasticPlan(6, 96, 1.0), ElasticPlan.of(96, 8, 7, 4));
        assertEquals(new ElasticPlan(8, 96, 1.0), ElasticPlan.of(96, 8, 9, 4));
        assertEquals(new ElasticPlan(7, 91, 91.0 / 96), ElasticPlan.of(96, 8, 7, 0));
        final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> ElasticPlan.of(96, 8, 3, 2));
        assertEquals("only 3 of 8 replicas can run, fewer than the 4 SyncBatchNorm groups (train.replicas = 8 / "
            + "syncbn.group-size = 2)", ex.getMessage());
    }

    @Test
    void reWarmupRampsLinearlyToTheRollbackScale()
    {
        final StageSpec spec = new StageSpec(null, -1, 10, 3, 255, 0.5, 10, 3, -1, 1, 1, false);
        assertEquals(0.5 * 1 / 4, spec.lrFactor(10), 1e-12);
        assertEquals(0.5 * 3 / 4, spec.lrFactor(12), 1e-12);
        assertEquals(0.5, spec.lrFactor(13), 0);
        assertEquals(0.5, new StageSpec(null, -1, 0, 2, 8, 0.5, -1, 0, -1, 1, 1, false).lrFactor(0), 0);
    }

    @Test
    void positionInAnotherGlobalBatchStartsAtTheFirstUnseenSampleOrJustBefore()
    {
        final TrainCheckpoint.Position position = new TrainCheckpoint.Position(13, 1, 3, 256, 4, 1.0, 0, 13, 1, -1, 0);
        assertEquals(13, position.startStep(256, 10), "same batch: same step");
        // 3 x 256 = 768 samples of epoch 1 seen; with 255 per step, step 3 of the epoch starts at sample 765.
        assertEquals(10 + 3, position.startStep(255, 10));
        assertEquals(10 + 6, position.startStep(128, 10));
    }
}
