package io.baton.trainer.syncbn;

/**
 * Pure arithmetic of SyncBatchNorm groups: with group size k, ranks [g*k, (g+1)*k) combine their statistics.
 * The caller that builds communicators uses it to create one sub-communicator per group (ranks renumbered
 * 0..k-1 in global-rank order) and passes it to {@link SyncBatchNorm#bind}.
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
}
