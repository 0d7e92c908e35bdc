package io.baton.common.collective;

import java.util.List;

/**
 * A collective operation failed: a peer timed out, a protocol invariant broke, or the communicator was closed.
 * The message names the operation, its sequence number, the world size and the ranks involved, e.g.
 * {@code "allReduce seq=42 worldSize=3 rank=0: timed out after 2000 ms waiting for ranks [2]"}.
 */
public class CollectiveException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final long sequence;
    private final List<Integer> missingRanks;

    public CollectiveException(
        final String operation, final long sequence, final List<Integer> missingRanks, final String message)
    {
        this(operation, sequence, missingRanks, message, null);
    }

    public CollectiveException(
        final String operation,
        final long sequence,
        final List<Integer> missingRanks,
        final String message,
        final Throwable cause)
    {
        super(message, cause);
        this.operation = operation;
        this.sequence = sequence;
        this.missingRanks = List.copyOf(missingRanks);
    }

    public String operation()
    {
        return operation;
    }

    public long sequence()
    {
        return sequence;
    }

    /** Ranks that did not answer in time (empty when the failure was not a timeout). */
    public List<Integer> missingRanks()
    {
        return missingRanks;
    }
}
