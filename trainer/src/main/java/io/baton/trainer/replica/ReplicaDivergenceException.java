package io.baton.trainer.replica;

/** Replicas that must hold bit-identical parameters do not: names the step and the ranks on each side. */
public class ReplicaDivergenceException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final long step;

    public ReplicaDivergenceException(final long step, final String message)
    {
        super(message);
        this.step = step;
    }

    /** The number of completed steps when the mismatch was found. */
    public long step()
    {
        return step;
    }
}
