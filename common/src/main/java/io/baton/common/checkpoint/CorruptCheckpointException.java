package io.baton.common.checkpoint;

import java.io.IOException;

/**
 * A published checkpoint whose manifest or parts do not match what was recorded at publish time (truncated,
 * altered, missing). The message names the checkpoint, the part and the expected and actual size or checksum.
 */
public final class CorruptCheckpointException extends IOException
{
    private static final long serialVersionUID = 1L;

    public CorruptCheckpointException(final String message)
    {
        super(message);
    }

    public CorruptCheckpointException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
