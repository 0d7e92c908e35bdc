package io.baton.coordinator.train;

/** Training kept producing non-finite steps after every allowed rollback; the message carries the diagnosis. */
public final class TrainingDivergedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(final String message)
    {
        super(message);
    }
}
