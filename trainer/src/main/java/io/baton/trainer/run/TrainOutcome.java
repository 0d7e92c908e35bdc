package io.baton.trainer.run;

import java.io.Serializable;

/**
 * How {@link TrainingLoop#train(long, TrainingHooks)} ended; equal on every rank.
 *
 * @param kind          finished every epoch, stopped by the hooks, or hit a non-finite step.
 * @param nextStep      global step the loop would run next (for NON_FINITE: the failing step).
 * @param stepsTaken    steps completed by this call.
 * @param diagnosis     for NON_FINITE: where the activations went bad; else empty.
 */
public record TrainOutcome(Kind kind, long nextStep, long stepsTaken, String diagnosis) implements Serializable
{
    public enum Kind
    {
        COMPLETED,
        STOPPED,
        NON_FINITE
    }
}
