package io.baton.coordinator.train;

import java.io.Serializable;

/**
 * What the driver tells every replica of one barrier stage: where to start, with how many replicas and which
 * global batch, the learning-rate adjustments in force, and when to stop. Equal for every rank.
 *
 * @param checkpointDir   the checkpoint directory to resume from, or null to start from the initial weights.
 * @param checkpointStep  step of the checkpoint to resume from (-1 without one).
 * @param startStep       first global step of this stage (in the numbering of this stage's global batch).
 * @param worldSize       replicas of the stage.
 * @param globalBatch     global batch of the stage (the configured one unless the elastic policy changed it).
 * @param lrScale         multiplier on the scheduled learning rate from non-finite rollbacks (1 = none).
 * @param rewarmupFrom    first step of a linear learning-rate re-warmup (-1 = none).
 * @param rewarmupSteps   length of that re-warmup.
 * @param stopAtStep      stop before this step (a checkpoint boundary, to let the world grow back); -1 = run on.
 * @param nanRollbacks    non-finite rollbacks so far in this run.
 * @param generation      the communicators' generation (new for every stage).
 * @param appendMetrics   append to metrics.jsonl rather than start it afresh.
 */
public record StageSpec(
    String checkpointDir,
    long checkpointStep,
    long startStep,
    int worldSize,
    int globalBatch,
    double lrScale,
    long rewarmupFrom,
    int rewarmupSteps,
    long stopAtStep,
    int nanRollbacks,
    long generation,
    boolean appendMetrics) implements Serializable
{
    /** The learning-rate multiplier of {@code step}: the rollback scale times the re-warmup ramp. */
    public double lrFactor(final long step)
    {
        if (rewarmupFrom < 0 || rewarmupSteps == 0 || step >= rewarmupFrom + rewarmupSteps)
        {
            return lrScale;
        }
        return lrScale * (double) (step - rewarmupFrom + 1) / (rewarmupSteps + 1);
    }
}
