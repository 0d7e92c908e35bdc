package io.baton.trainer.replica;

/**
 * The all-reduced gradient of a step held a NaN or an infinity. Thrown on every rank alike, before the parameters
 * changed, so the replica still holds the state it had before the step.
 */
public final class NonFiniteStepException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final long completedSteps;
    private final double localLoss;
    private final double gradientSum;

    public NonFiniteStepException(final long completedSteps, final double localLoss, final double gradientSum)
    {
        super("non-finite gradient after the all-reduce at step " + completedSteps + " of this replica step: "
            + "gradient sum " + gradientSum + ", local loss " + localLoss);
        this.completedSteps = completedSteps;
        this.localLoss = localLoss;
        this.gradientSum = gradientSum;
    }

    /** Steps this SynchronousStep had completed before the failing one. */
    public long completedSteps()
    {
        return completedSteps;
    }

    public double localLoss()
    {
        return localLoss;
    }

    public double gradientSum()
    {
        return gradientSum;
    }
}
