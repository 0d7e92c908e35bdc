package io.baton.coordinator.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
