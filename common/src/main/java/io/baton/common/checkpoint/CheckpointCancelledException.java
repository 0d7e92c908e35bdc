package io.baton.common.checkpoint;

import java.io.IOException;

/** A checkpoint write stopped by its {@link WriteCancellation} before it published; its staging is removed. */
public final class CheckpointCancelledException extends IOException
{
    private static final long serialVersionUID = 1L;

    CheckpointCancelledException(final String message)
    {
        super(message);
    }
}
