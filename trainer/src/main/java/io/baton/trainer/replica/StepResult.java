package io.baton.trainer.replica;

/**
 * What one synchronous step reports.
 *
 * @param localLoss    this replica's mean loss over its slice (from the training forward pass).
 * @param gradientNorm global L2 norm of the averaged gradient (after the all-reduce, before clipping) over the
 *                     trainable parameters; equal on every rank.
 * @param clipFactor   factor the gradient was scaled by for norm clipping; 1 when not clipped.
 */
public record StepResult(double localLoss, double gradientNorm, double clipFactor)
{
    /** True when norm clipping scaled the gradient down. */
    public boolean clipped()
    {
        return clipFactor < 1.0;
    }
}
