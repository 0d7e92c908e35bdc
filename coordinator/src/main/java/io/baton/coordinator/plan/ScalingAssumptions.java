package io.baton.coordinator.plan;

/**
 * The inputs of {@link ScalingModel} besides the model size and the cluster shape. Every value is printed by
 * {@code baton plan}.
 *
 * @param imagesPerSecPerGpu  training throughput of one replica alone (forward + backward + update), at
 *                            {@code batchPerReplica}.
 * @param batchPerReplica     images per replica per step.
 * @param ringEfficiency      achieved fraction of the link rate for a large ring all-reduce, in (0, 1].
 * @param syncBnLatencyUs     latency of one small SyncBN all-reduce between 2 replicas, microseconds; 0 = no SyncBN.
 * @param syncBnScaling       how that latency grows with the replica count.
 * @param gpusPerNode         replicas sharing one network link (the ring crosses each node's link once per
 *                            direction; inside a node it runs over {@code intraNodeGbps}).
 * @param intraNodeGbps       per-direction bandwidth between replicas of one node, Gbit/s.
 * @param overlap             fraction of the backward pass during which the gradient all-reduce proceeds (0 = after
 *                            backward, Baton's default; 1 = the whole backward pass hides communication).
 * @param backwardFraction    share of the compute time spent in the backward pass.
 */
public record ScalingAssumptions(
    double imagesPerSecPerGpu,
    int batchPerReplica,
    double ringEfficiency,
    double syncBnLatencyUs,
    SyncBnScaling syncBnScaling,
    int gpusPerNode,
    double intraNodeGbps,
    double overlap,
    double backwardFraction)
{
    /**
     * Baton's ring efficiency measured on loopback (docs/BENCHMARKS.md "Collectives (issue 3)", quiet run, 241 MB,
     * 2 processes, default 16 MB terms): Aeron IPC 220 ms against MPI shared memory 166 ms, taken as the
     * fraction of what the best collective on the same transport achieves: 166 / 220 = 0.75.
     */
    public static final double BATON_RING_EFFICIENCY = 166.0 / 220.0;
    /** One SyncBN small all-reduce (1 KB double[128]) between 2 processes, Aeron IPC, loaded run (issue 3): 45.6 us. */
    public static final double BATON_SYNCBN_LATENCY_US = 45.6;
    /** Backward is about twice the forward pass for convolutional nets. */
    public static final double DEFAULT_BACKWARD_FRACTION = 2.0 / 3.0;
    /** NVLink-class intra-node bandwidth used when a node holds several replicas. */
    public static final double DEFAULT_INTRA_NODE_GBPS = 400;

    /** How a small all-reduce's latency grows with the number of replicas. */
    public enum SyncBnScaling
    {
        /** log2(N) rounds (recursive doubling or a tree): factor log2(N) relative to N = 2. */
        LOG,
        /** N - 1 sequential hops (a ring, or one-hop all-to-all limited by per-message cost): factor N - 1. */
        LINEAR;

        double factor(final int replicas)
        {
            if (replicas <= 1)
            {
                return 0;
            }
            return this == LOG ? Math.log(replicas) / Math.log(2) : replicas - 1;
        }
    }

    public ScalingAssumptions
    {
        require(imagesPerSecPerGpu > 0, "images/s per GPU must be > 0, was " + imagesPerSecPerGpu);
        require(batchPerReplica > 0, "batch per replica must be > 0, was " + batchPerReplica);
        require(ringEfficiency > 0 && ringEfficiency <= 1, "ring efficiency must be in (0, 1], was " + ringEfficiency);
        require(syncBnLatencyUs >= 0, "SyncBN latency must be >= 0, was " + syncBnLatencyUs);
        require(syncBnScaling != null, "SyncBN scaling must be given");
        require(gpusPerNode > 0, "GPUs per node must be > 0, was " + gpusPerNode);
        require(intraNodeGbps > 0, "intra-node bandwidth must be > 0, was " + intraNodeGbps);
        require(overlap >= 0 && overlap <= 1, "overlap must be in [0, 1], was " + overlap);
        require(backwardFraction > 0 && backwardFraction < 1, "backward fraction must be in (0, 1), was "
            + backwardFraction);
    }

    /** Baton's defaults for everything but the throughput and batch. */
    public static ScalingAssumptions baton(final double imagesPerSecPerGpu, final int batchPerReplica)
    {
        return new ScalingAssumptions(imagesPerSecPerGpu, batchPerReplica, BATON_RING_EFFICIENCY,
            BATON_SYNCBN_LATENCY_US, SyncBnScaling.LOG, 1, DEFAULT_INTRA_NODE_GBPS, 0, DEFAULT_BACKWARD_FRACTION);
    }

    public ScalingAssumptions withRingEfficiency(final double value)
    {
        return new ScalingAssumptions(imagesPerSecPerGpu, batchPerReplica, value, syncBnLatencyUs, syncBnScaling,
            gpusPerNode, intraNodeGbps, overlap, backwardFraction);
    }

    public ScalingAssumptions withSyncBn(final double latencyUs, final SyncBnScaling scaling)
    {
        return new ScalingAssumptions(imagesPerSecPerGpu, batchPerReplica, ringEfficiency, latencyUs, scaling,
            gpusPerNode, intraNodeGbps, overlap, backwardFraction);
    }

    public ScalingAssumptions withNodes(final int perNode, final double intraGbps)
    {
        return new ScalingAssumptions(imagesPerSecPerGpu, batchPerReplica, ringEfficiency, syncBnLatencyUs,
            syncBnScaling, perNode, intraGbps, overlap, backwardFraction);
    }

    public ScalingAssumptions withOverlap(final double value)
    {
        return new ScalingAssumptions(imagesPerSecPerGpu, batchPerReplica, ringEfficiency, syncBnLatencyUs,
            syncBnScaling, gpusPerNode, intraNodeGbps, value, backwardFraction);
    }

    private static void require(final boolean ok, final String message)
    {
        if (!ok)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
