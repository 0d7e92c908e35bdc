package io.baton.trainer.optim;

/**
 * Settings of {@link LargeBatchSgd} (the learning rate is not one: it is passed on every step).
 *
 * @param momentum             m in [0, 1).
 * @param nesterov             Nesterov momentum (step = g + m v) instead of classic (step = v).
 * @param weightDecay          L2 coefficient added to the gradient of {@link ParamKind#WEIGHT} slots only (&gt;= 0).
 * @param lars                 scale each weight tensor's update by its LARS trust ratio.
 * @param larsTrustCoefficient eta of LARS (&gt; 0), e.g. 0.001.
 * @param maxGradNorm          clip the global L2 norm of the averaged gradient to this; 0 = off.
 */
public record SgdSettings(
    double momentum, boolean nesterov, double weightDecay, boolean lars, double larsTrustCoefficient,
    double maxGradNorm)
{
    public SgdSettings
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new IllegalArgumentException("momentum must be in [0, 1), momentum=" + momentum);
        }
        if (!(weightDecay >= 0))
        {
            throw new IllegalArgumentException("weightDecay must be >= 0, weightDecay=" + weightDecay);
        }
        if (!(larsTrustCoefficient > 0))
        {
            throw new IllegalArgumentException("larsTrustCoefficient must be > 0, larsTrustCoefficient="
                + larsTrustCoefficient);
        }
        if (!(maxGradNorm >= 0))
        {
            throw new IllegalArgumentException("maxGradNorm must be >= 0 (0 = off), maxGradNorm=" + maxGradNorm);
        }
        if (nesterov && momentum == 0)
        {
            throw new IllegalArgumentException("nesterov needs momentum > 0, momentum=" + momentum);
        }
    }

    /** Plain momentum SGD: no weight decay, LARS or clipping. */
    public static SgdSettings momentum(final double momentum, final boolean nesterov)
    {
        return new SgdSettings(momentum, nesterov, 0.0, false, 0.001, 0.0);
    }

    public SgdSettings withWeightDecay(final double weightDecay)
    {
        return new SgdSettings(momentum, nesterov, weightDecay, lars, larsTrustCoefficient, maxGradNorm);
    }

    public SgdSettings withLars(final double trustCoefficient)
    {
        return new SgdSettings(momentum, nesterov, weightDecay, true, trustCoefficient, maxGradNorm);
    }

    public SgdSettings withMaxGradNorm(final double maxNorm)
    {
        return new SgdSettings(momentum, nesterov, weightDecay, lars, larsTrustCoefficient, maxNorm);
    }
}
