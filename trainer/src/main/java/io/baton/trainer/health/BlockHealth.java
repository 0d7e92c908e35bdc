package io.baton.trainer.health;

/**
 * Health of one residual block on one batch.
 *
 * @param block          block name, e.g. {@code stage2_block1}.
 * @param maxActivation  max |activation| at the block's output vertex.
 * @param deadFraction   fraction of output channels that are zero for every example and position (post-ReLU
 *                       outputs only; NaN for a pre-activation block, whose output is the addition).
 */
public record BlockHealth(String block, double maxActivation, double deadFraction)
{
}
