package io.baton.trainer.syncbn;

import io.baton.common.collective.CollectiveSettings;

/**
 * Pure arithmetic of SyncBatchNorm groups: with group size k, ranks [g*k, (g+1)*k) combine their statistics.
 * The caller that builds communicators uses it to create one sub-communicator per group (ranks renumbered
 * 0..k-1 in global-rank order) and passes it to {@link SyncBatchNorm#bind}. Because the sampler gives rank r the
 * slice [r*G/N, (r+1)*G/N) of every global batch, group g normalises over the contiguous slice
 * [g*G/(N/k), (g+1)*G/(N/k)): the statistics depend on the number of groups N/k, not on the world size.
 *
 * <p>Thread-safe (stateless).
 */
public final class BnGroups
{
    private BnGroups()
    {
    }

    /**
     * The effective group size: {@code groupSize} if positive, else the world size; validated to divide the world.
     */
    public static int effectiveGroupSize(final int worldSize, final int groupSize)
    {
        if (worldSize < 1)
        {
            throw new IllegalArgumentException("world size must be >= 1, worldSize=" + worldSize);
        }
        final int k = groupSize <= 0 ? worldSize : groupSize;
        if (worldSize % k != 0)
        {
            throw new IllegalArgumentException("syncbn.group-size must divide the world size: groupSize=" + groupSize
                + ", worldSize=" + worldSize);
        }
        return k;
    }

    /**
     * Number of groups, N / k: what the training trajectory depends on (each group normalises over 1/(N/k) of the
     * global batch), not N or k alone. A world of 4 in groups of 2 trains as a world of 2 in groups of 1.
     */
    public static int groupCount(final int worldSize, final int groupSize)
    {
        return worldSize / effectiveGroupSize(worldSize, groupSize);
    }

    /** Index g of the group holding {@code rank}. */
    public static int groupIndex(final int rank, final int worldSize, final int groupSize)
    {
        return rank / effectiveGroupSize(worldSize, groupSize);
    }

    /** First global rank of the group holding {@code rank}. */
    public static int firstRank(final int rank, final int worldSize, final int groupSize)
    {
        final int k = effectiveGroupSize(worldSize, groupSize);
        return (rank / k) * k;
    }

    /** The rank of {@code rank} inside its group communicator (0..k-1). */
    public static int rankInGroup(final int rank, final int worldSize, final int groupSize)
    {
        return rank % effectiveGroupSize(worldSize, groupSize);
    }

    /**
     * Settings of a group's communicator: the replica's, on the stream after the overlapped gradient all-reduce's
     * (same ports and driver, its own Aeron streams).
     */
    public static CollectiveSettings communicatorSettings(final CollectiveSettings replica)
    {
        return replica.toBuilder().streamId(replica.streamId() + 2).build();
    }

    /** Job id of group {@code group}'s communicator: its own, so its messages stay apart from the replica's. */
    public static String communicatorJobId(final String replicaJobId, final int group)
    {
        return replicaJobId + "/syncbn-group-" + group;
    }
}
