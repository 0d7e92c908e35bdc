package io.baton.coordinator.lock;

/**
 * Another job holds the directory's {@link DirectoryLock}: nothing was started and nothing in the directory changed.
 * The message names the directory, the holder (job, host, process, start) and how to proceed.
 */
public final class DirectoryInUseException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public DirectoryInUseException(final String message)
    {
        super(message);
    }
}
