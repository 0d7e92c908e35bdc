package io.baton.coordinator.retrain;

/**
 * The promotion rule of scheduled retraining: a candidate replaces the current model when its validation top-1 is
 * at least the current model's minus a tolerance, both measured on the same validation data. With no current
 * model (or one that cannot be scored) the candidate is promoted.
 *
 * @param tolerance allowed drop in top-1 (a fraction, e.g. 0.01 = one percentage point), >= 0.
 */
public record PromotionGate(double tolerance)
{
    public PromotionGate
    {
        if (!(tolerance >= 0))
        {
            throw new IllegalArgumentException("promotion tolerance must be >= 0, tolerance=" + tolerance);
        }
    }

    /**
     * @param candidateTop1 the candidate's val top-1.
     * @param currentTop1   the current model's val top-1, NaN when there is none.
     */
    public boolean promotes(final double candidateTop1, final double currentTop1)
    {
        if (Double.isNaN(candidateTop1))
        {
            return false;
        }
        return Double.isNaN(currentTop1) || candidateTop1 >= currentTop1 - tolerance;
    }
}
