package io.baton.trainer.data;

/**
 * World-size-invariant data order. For epoch e the sample ids 0..n-1 are permuted by a Fisher-Yates shuffle driven by
 * {@link SplitMix64} seeded with {@code derive(jobSeed, e)}; the permutation is cut into global batches of G in
 * order, and replica r of N gets the slice [r*G/N, (r+1)*G/N) of each global batch (integer division, so slices
 * differ by at most one sample when N does not divide G). Concatenating the slices of ranks 0..N-1 gives the global
 * batch a single replica would train on, for every N. The last partial global batch follows the
 * {@link PartialBatchPolicy} (default {@link PartialBatchPolicy#DROP}).
 *
 * <p>Thread-safe (immutable); {@link #epoch(long)} computes an O(n) permutation, keep the returned order for the
 * epoch.
 */
public final class GlobalBatchSampler
{
    private final int numSamples;
    private final int globalBatch;
    private final int worldSize;
    private final long jobSeed;
    private final PartialBatchPolicy policy;

    /**
     * @param numSamples  samples in the data set (n &gt;= 1).
     * @param globalBatch G, samples per optimisation step over all replicas (1 &lt;= G; with DROP, G &lt;= n).
     * @param worldSize   N replicas (1 &lt;= N &lt;= G).
     * @param jobSeed     the job's seed.
     * @param policy      what happens to the last n mod G samples.
     */
    public GlobalBatchSampler(
        final int numSamples, final int globalBatch, final int worldSize, final long jobSeed,
        final PartialBatchPolicy policy)
    {
        if (numSamples < 1 || globalBatch < 1 || worldSize < 1 || worldSize > globalBatch)
        {
            throw new IllegalArgumentException("need n >= 1, G >= 1 and 1 <= N <= G: numSamples=" + numSamples
                + ", globalBatch=" + globalBatch + ", worldSize=" + worldSize);
        }
        if (policy == PartialBatchPolicy.DROP && globalBatch > numSamples)
        {
            throw new IllegalArgumentException("global batch larger than the data set leaves no batch with DROP: "
                + "globalBatch=" + globalBatch + ", numSamples=" + numSamples);
        }
        this.numSamples = numSamples;
        this.globalBatch = globalBatch;
        this.worldSize = worldSize;
        this.jobSeed = jobSeed;
        this.policy = policy;
    }

    public int numSamples()
    {
        return numSamples;
    }

    public int globalBatch()
    {
        return globalBatch;
    }

    public int worldSize()
    {
        return worldSize;
    }

    public PartialBatchPolicy policy()
    {
        return policy;
    }

    /** Optimisation steps per epoch: floor(n/G) with DROP, ceil(n/G) with KEEP_UNEVEN. */
    public int stepsPerEpoch()
    {
        final int full = numSamples / globalBatch;
        return policy == PartialBatchPolicy.KEEP_UNEVEN && numSamples % globalBatch != 0 ? full + 1 : full;
    }

    /** The permutation of sample ids for {@code epoch} (independent of world size). */
    public int[] permutation(final long epoch)
    {
        final int[] ids = new int[numSamples];
        for (int i = 0; i < numSamples; i++)
        {
            ids[i] = i;
        }
        final SplitMix64 random = new SplitMix64(SplitMix64.derive(jobSeed, epoch));
        for (int i = numSamples - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final int t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
        }
        return ids;
    }

    /** The batches of one epoch. */
    public EpochOrder epoch(final long epoch)
    {
        return new EpochOrder(permutation(epoch), globalBatch, worldSize, stepsPerEpoch());
    }

    /** The global batches of one epoch and each replica's slice of them. Immutable. */
    public static final class EpochOrder
    {
        private final int[] order;
        private final int globalBatch;
        private final int worldSize;
        private final int steps;

        EpochOrder(final int[] order, final int globalBatch, final int worldSize, final int steps)
        {
            this.order = order;
            this.globalBatch = globalBatch;
            this.worldSize = worldSize;
            this.steps = steps;
        }

        public int steps()
        {
            return steps;
        }

        /** Samples in global batch {@code step}: G, or n mod G for a kept last partial batch. */
        public int batchSize(final int step)
        {
            checkStep(step);
            return Math.min(globalBatch, order.length - step * globalBatch);
        }

        /** Sample ids of global batch {@code step}, in order. */
        public int[] globalBatch(final int step)
        {
            final int from = step * globalBatch;
            return java.util.Arrays.copyOfRange(order, from, from + batchSize(step));
        }

        /** Sample ids of replica {@code rank}'s slice [r*g/N, (r+1)*g/N) of global batch {@code step}; may be empty. */
        public int[] slice(final int step, final int rank)
        {
            if (rank < 0 || rank >= worldSize)
            {
                throw new IllegalArgumentException("rank out of [0, " + worldSize + "): rank=" + rank);
            }
            final long g = batchSize(step);
            final int from = step * globalBatch + (int)(rank * g / worldSize);
            final int to = step * globalBatch + (int)((rank + 1) * g / worldSize);
            return java.util.Arrays.copyOfRange(order, from, to);
        }

        private void checkStep(final int step)
        {
            if (step < 0 || step >= steps)
            {
                throw new IllegalArgumentException("step out of [0, " + steps + "): step=" + step);
            }
        }
    }
}
