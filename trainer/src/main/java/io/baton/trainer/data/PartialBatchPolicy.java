package io.baton.trainer.data;

/** What {@link GlobalBatchSampler} does with the last global batch of an epoch when fewer than G samples remain. */
public enum PartialBatchPolicy
{
    /** The default: the remaining n mod G samples are not used this epoch (they differ every epoch). */
    DROP,
    /**
     * The last global batch has g = n mod G samples, sliced like any other: replica r gets [r*g/N, (r+1)*g/N), so
     * slices can be uneven and, when g &lt; N, empty. The trainer divides gradients by g, not G.
     */
    KEEP_UNEVEN
}
