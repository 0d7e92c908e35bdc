package io.baton.trainer.replica;

/**
 * What one synchronous step reports.
 *
 * @param localLoss    this replica's mean loss over its slice (from the training forward pass).
 * @param gradientNorm global L2 norm of the averaged gradient (after the all-reduce, before clipping) over the
 *                     trainable parameters; equal on every rank.
 * @param clipFactor   factor the gradient was scaled by for norm clipping; 1 when not clipped.
 * @param localCorrect correct top-1 predictions on this replica's slice in the step's own forward pass (before the
 *                     update), or -1 when the graph's shape does not allow measuring it.
 */
public record StepResult(double localLoss, double gradientNorm, double clipFactor, long localCorrect)
{
    /** True when norm clipping scaled the gradient down. */
    public boolean clipped()
    {
        return clipFactor < 1.0;
    }
}
