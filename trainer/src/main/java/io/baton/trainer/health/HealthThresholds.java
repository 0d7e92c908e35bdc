package io.baton.trainer.health;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.TrainerKeys;

/**
 * When a health check warns. Defaults are the seed article's: activations above 100 and more than 10% dead ReLU
 * channels in a block.
 *
 * @param maxActivation       largest acceptable max |activation| at a block's output.
 * @param maxDeadFraction     largest acceptable fraction of a block's output channels that are zero everywhere.
 * @param maxStageGradNorm    largest acceptable gradient L2 norm of one stage's parameters (0 = never warn).
 * @param maxBnMeanAbs        largest acceptable |running mean| of a batch normalisation channel.
 */
public record HealthThresholds(double maxActivation, double maxDeadFraction, double maxStageGradNorm,
    double maxBnMeanAbs)
{
    /** The seed article's thresholds (also the reference configuration's defaults). */
    public static final HealthThresholds DEFAULTS = new HealthThresholds(100.0, 0.10, 0.0, 1000.0);

    public HealthThresholds
    {
        if (!(maxActivation > 0) || !(maxDeadFraction >= 0 && maxDeadFraction <= 1) || !(maxStageGradNorm >= 0)
            || !(maxBnMeanAbs > 0))
        {
            throw new IllegalArgumentException("invalid health thresholds: maxActivation=" + maxActivation
                + " (> 0), maxDeadFraction=" + maxDeadFraction + " (0..1), maxStageGradNorm=" + maxStageGradNorm
                + " (>= 0), maxBnMeanAbs=" + maxBnMeanAbs + " (> 0)");
        }
    }

    /** From the {@code health.*} keys. */
    public static HealthThresholds from(final BatonConfig config)
    {
        return new HealthThresholds(
            config.get(TrainerKeys.HEALTH_MAX_ACTIVATION),
            config.get(TrainerKeys.HEALTH_MAX_DEAD_FRACTION),
            config.get(TrainerKeys.HEALTH_MAX_STAGE_GRAD_NORM),
            config.get(TrainerKeys.HEALTH_MAX_BN_MEAN));
    }
}
