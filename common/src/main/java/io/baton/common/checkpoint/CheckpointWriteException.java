package io.baton.common.checkpoint;

import java.io.IOException;

/**
 * A background checkpoint write failed; thrown by the {@link AsyncCheckpointWriter} call that follows the failure
 * (or by its {@code close()}), with the original error as the cause. The failed checkpoint was not published; the
 * previous published one is untouched.
 */
public final class CheckpointWriteException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final long step;

    public CheckpointWriteException(final long step, final String message, final Throwable cause)
    {
        super(message, cause);
        this.step = step;
    }

    /** Step of the checkpoint that was not written. */
    public long step()
    {
        return step;
    }
}
