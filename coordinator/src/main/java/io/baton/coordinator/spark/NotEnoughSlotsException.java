package io.baton.coordinator.spark;

/**
 * The cluster cannot run all replicas of a barrier stage at once (after {@code cluster.slot-wait}); the message
 * names the replicas wanted, the slots found and what to change. Thrown before a job's first stage, nothing of the
 * job has started and the command line treats it as a usage error (exit 2).
 */
public final class NotEnoughSlotsException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public NotEnoughSlotsException(final String message)
    {
        super(message);
    }
}
