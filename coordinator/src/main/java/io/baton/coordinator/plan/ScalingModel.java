package io.baton.coordinator.plan;

/**
 * The analytic model behind {@code baton plan}: one synchronous data-parallel step of N replicas is
 * <pre>
 *   compute   = batch / (images/s of one replica)
 *   allreduce = 2 (N - 1) / N x gradientBytes / (bottleneck link x ring efficiency)
 *   exposed   = max(0, allreduce - overlap x backwardFraction x compute)
 *   syncbn    = 2 x bnLayers x latency(2 replicas) x factor(N)          (0 without SyncBN)
 *   step      = compute + exposed + syncbn;   efficiency = compute / step
 * </pre>
 * The bottleneck link of a ring that spans several nodes is the node's network link (each node's link carries the
 * ring once per direction, whatever the replicas per node); inside one node it is the intra-node link. Bandwidth
 * terms only: no stragglers, no data loading, no latency term for the large all-reduce (2 (N - 1) chunk hops, small
 * against the bandwidth term for gradients of 10 MB and more until N reaches several thousand). Pure functions.
 */
public final class ScalingModel
{
    private static final double BITS_PER_BYTE = 8;

    private ScalingModel()
    {
    }

    /**
     * @param gradientBytes bytes all-reduced per step (the flat gradient).
     * @param bnLayers      BatchNormalization layers (each costs two small all-reduces per step under SyncBN).
     * @param replicas      N >= 1.
     * @param linkGbps      per-node network link, Gbit/s per direction.
     * @param a             the other assumptions.
     */
    public static Projection project(
        final long gradientBytes, final int bnLayers, final int replicas, final double linkGbps,
        final ScalingAssumptions a)
    {
        if (gradientBytes <= 0 || bnLayers < 0 || replicas < 1 || !(linkGbps > 0))
        {
            throw new IllegalArgumentException("invalid model inputs: gradientBytes=" + gradientBytes + ", bnLayers="
                + bnLayers + ", replicas=" + replicas + ", linkGbps=" + linkGbps);
        }
        final double computeMs = 1000.0 * a.batchPerReplica() / a.imagesPerSecPerGpu();
        final double allReduceMs = allReduceMs(gradientBytes, replicas, linkGbps, a);
        final double hideMs = a.overlap() * a.backwardFraction() * computeMs;
        final double exposedMs = Math.max(0, allReduceMs - hideMs);
        final double syncBnMs = 2.0 * bnLayers * a.syncBnLatencyUs() / 1000.0 * a.syncBnScaling().factor(replicas);
        final double stepMs = computeMs + exposedMs + syncBnMs;
        final double backwardMs = a.backwardFraction() * computeMs;
        final double linkToHide = replicas <= a.gpusPerNode() ? 0
            : ringFactor(replicas) * gradientBytes * BITS_PER_BYTE / (backwardMs / 1000.0) / a.ringEfficiency() / 1e9;
        return new Projection(replicas, linkGbps, computeMs, allReduceMs, exposedMs, syncBnMs, stepMs,
            computeMs / stepMs, replicas * a.batchPerReplica() / (stepMs / 1000.0), linkToHide);
    }

    /** The ring all-reduce of {@code bytes} over N replicas, milliseconds (0 for one replica). */
    public static double allReduceMs(
        final long bytes, final int replicas, final double linkGbps, final ScalingAssumptions a)
    {
        if (replicas <= 1)
        {
            return 0;
        }
        final double gbps = replicas <= a.gpusPerNode() ? a.intraNodeGbps() : Math.min(linkGbps, a.intraNodeGbps());
        return 1000.0 * ringFactor(replicas) * bytes * BITS_PER_BYTE / (gbps * 1e9 * a.ringEfficiency());
    }

    /** 2 (N - 1) / N: the bytes each rank sends per byte of buffer in a ring all-reduce. */
    public static double ringFactor(final int replicas)
    {
        return 2.0 * (replicas - 1) / replicas;
    }

    /** Scaling efficiency of {@code to} relative to {@code from} (images/s per replica ratio), as papers report it. */
    public static double relativeEfficiency(final Projection from, final Projection to)
    {
        return to.stepMs() == 0 ? 0 : from.stepMs() / to.stepMs();
    }
}
