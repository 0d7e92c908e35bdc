package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.spark.SparkJobLabel;
import io.baton.trainer.TrainerKeys;

/**
 * The {@link StageSpec} of each barrier stage, a function of the run's configuration and plan, the checkpoint it
 * starts from and its {@link ElasticPlan}: the start step in the stage's own batch numbering, the re-warmup when the
 * global batch changed, and (with fewer replicas than configured) the checkpoint boundary to stop at so that the
 * world can grow back. Also the stage's label in the Spark UI.
 *
 * <p>Threading: immutable; the driver's thread.
 */
final class StageSpecs
{
    private final BatonConfig config;
    private final TrainPlan plan;

    StageSpecs(final BatonConfig config, final TrainPlan plan)
    {
        this.config = config;
        this.plan = plan;
    }

    /**
     * @param from          the checkpoint the stage starts from, or null for the initial weights.
     * @param lrScale       the learning-rate multiplier from non-finite rollbacks so far.
     * @param nanRollbacks  non-finite rollbacks so far.
     * @param generation    the stage's communicator generation.
     * @param appendMetrics append to metrics.jsonl rather than start it afresh.
     */
    StageSpec spec(final ResumeResolver.Found from, final ElasticPlan shape, final double lrScale,
        final int nanRollbacks, final long generation, final boolean appendMetrics)
    {
        final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        final int every = config.get(CommonKeys.CHECKPOINT_EVERY);
        final long stepsPerEpoch = stepsPerEpoch(shape);
        final long start = from == null ? 0 : from.position().startStep(shape.globalBatch(), stepsPerEpoch);
        long rewarmupFrom = -1;
        int rewarmupSteps = 0;
        if (from != null && shape.globalBatch() != from.position().globalBatch())
        {
            rewarmupFrom = start;
            rewarmupSteps = config.get(CoordinatorKeys.ELASTIC_REWARMUP_STEPS);
        }
        else if (from != null)
        {
            rewarmupFrom = from.position().rewarmupFrom();
            rewarmupSteps = from.position().rewarmupSteps();
        }
        final long stopAt = shape.worldSize() < replicas ? (start / every + 1) * every : -1;
        return new StageSpec(from == null ? null : from.dir(), from == null ? -1 : from.position().step(), start,
            shape.worldSize(), shape.globalBatch(), lrScale, rewarmupFrom, rewarmupSteps, stopAt, nanRollbacks,
            generation, appendMetrics);
    }

    /** The stage's job group and description in the Spark UI: its replica set and step range. */
    SparkJobLabel label(final int stage, final StageSpec spec, final ElasticPlan shape)
    {
        final long total = stepsPerEpoch(shape) * plan.epochs();
        return SparkJobLabel.train(config.get(CommonKeys.JOB_NAME), stage, shape.worldSize(),
            config.get(TrainerKeys.TRAIN_REPLICAS), spec.startStep(), spec.stopAtStep() >= 0
                ? Math.min(spec.stopAtStep(), total) : total, total, spec.checkpointStep());
    }

    private long stepsPerEpoch(final ElasticPlan shape)
    {
        return TrainPlan.sampler(TrainTask.effectiveConfig(config.render(), new StageSpec(null, -1, 0,
            shape.worldSize(), shape.globalBatch(), 1, -1, 0, -1, 0, 0, false)), plan.trainSamples(),
            shape.worldSize()).stepsPerEpoch();
    }
}
