package io.baton.trainer.run;

import io.baton.trainer.data.BatchSource;

/**
 * What the driver of a replica adds to the training loop: a learning-rate multiplier (recovery back-off, elastic
 * re-warmup), checkpoints after steps (with a fence before the next update), and a stop before a step. Every method must answer the same on every rank
 * (a function of the step), since the loop's collectives run in lock step.
 *
 * <p>Threading: called on the replica's training thread.
 */
public interface TrainingHooks
{
    /** No adjustment, no checkpoints, no stop. */
    TrainingHooks NONE = new TrainingHooks()
    {
    };

    /** Multiplies the scheduled learning rate of {@code globalStep}. */
    default double lrFactor(final long globalStep)
    {
        return 1.0;
    }

    /** Called with this replica's slice before the step runs; may modify it (test fault injection). */
    default void beforeStep(final long globalStep, final BatchSource.Batch batch)
    {
    }

    /**
     * Called during step {@code globalStep} after its gradient is all-reduced and found finite, right before the
     * optimiser writes the parameters and its state: until this call the step has only read them, so a checkpoint
     * snapshot of the previous step may still be copying them, and this is where to wait for it. Not called for a
     * non-finite step.
     */
    default void beforeUpdate(final long globalStep)
    {
    }

    /**
     * Called after a step completed.
     *
     * @param completedSteps global steps completed (the next step's index).
     * @param nextEpoch      the epoch of the next step.
     * @param epochEnd       the step was its epoch's last.
     */
    default void afterStep(final long completedSteps, final int nextEpoch, final boolean epochEnd)
    {
    }

    /** True to stop before the step {@code globalStep} (e.g. at a checkpoint boundary). */
    default boolean stopBefore(final long globalStep)
    {
        return false;
    }
}
