package io.baton.common.collective.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;
import io.baton.common.collective.ReduceOp;
import io.baton.common.collective.StageKey;

/**
 * All-reduce benchmark, one rank per process (not a test). Usage:
 * {@code AllReduceBench rank ports(comma separated) UDP|IPC [externalDriverDir|-] sizesBytes(comma separated)}.
 * Rank 0 prints one line per size: {@code bytes floats iterations median_us min_us algbw_GBps busbw_GBps}
 * (algbw = bytes / median time, busbw = algbw x 2(N-1)/N), then the 1 KB and 128-double small latencies.
 * Every timed iteration is preceded by a barrier, so rank 0's time covers the slowest rank.
 * {@code -Dbench.compression=NONE|FP16|BF16} sets {@code collective.compression} (the ring's wire format); algbw and
 * busbw are always of the float data (so a compressed ring shows what it achieves for the caller's bytes).
 * {@code -Dbench.hosts=10.77.0.1,10.77.0.2} gives each rank's address (one per port, same order; default 127.0.0.1 for
 * every rank), for ranks in separate network namespaces ({@code bench/collectives/netns.sh});
 * {@code -Dbench.mtu=BYTES} sets {@code collective.mtu} (to fit a link's MTU instead of IP-fragmenting 64 KB datagrams);
 * {@code -Dbench.offHeap=true} all-reduces the sized data from a direct buffer (off-heap, as the trainer's ND4J
 * gradients) instead of a {@code float[]}.
 */
public final class AllReduceBench
{
    private AllReduceBench()
    {
    }

    public static void main(final String[] args)
    {
        final int rank = Integer.parseInt(args[0]);
        final int[] ports = Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray();
        final CollectiveSettings.Transport transport = CollectiveSettings.Transport.valueOf(args[2]);
        final String driverDir = args[3];
        final long[] sizes = Arrays.stream(args[4].split(",")).mapToLong(Long::parseLong).toArray();
        final CollectiveSettings.Builder builder = CollectiveSettings.builder()
            .transport(transport)
            .operationDeadlineNs(TimeUnit.SECONDS.toNanos(120))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(60))
            .termLength(Integer.getInteger("bench.termLength", CollectiveSettings.DEFAULT_TERM_LENGTH))
            .smallThresholdBytes(Integer.getInteger("bench.smallThreshold",
                CollectiveSettings.DEFAULT_SMALL_THRESHOLD_BYTES))
            .idleMaxSpins(Long.getLong("bench.idleMaxSpins", CollectiveSettings.DEFAULT_IDLE_MAX_SPINS))
            .idleMaxYields(Long.getLong("bench.idleMaxYields", CollectiveSettings.DEFAULT_IDLE_MAX_YIELDS))
            .idleMaxParkNs(Long.getLong("bench.idleMaxParkNs", CollectiveSettings.DEFAULT_IDLE_MAX_PARK_NS))
            .compression(CollectiveSettings.Compression.valueOf(System.getProperty("bench.compression", "NONE")))
            .mtuLength(Integer.getInteger("bench.mtu", CollectiveSettings.DEFAULT_MTU_LENGTH));
        if (!"-".equals(driverDir))
        {
            builder.driverMode(CollectiveSettings.DriverMode.EXTERNAL).externalDriverDirectory(driverDir);
        }
        final CollectiveSettings settings = builder.build();
        final String[] hosts = hosts(ports.length);
        final List<PeerEndpoint> peers = new ArrayList<>();
        for (int r = 0; r < ports.length; r++)
        {
            peers.add(PeerEndpoint.local(settings, hosts[r], ports[r]));
        }
        final int worldSize = ports.length;
        final boolean offHeap = Boolean.getBoolean("bench.offHeap");
        try (AeronCommunicator comm = new AeronCommunicator(settings, rank, peers, "bench", 1,
            StageKey.fromHex(System.getProperty("bench.key", "be".repeat(StageKey.LENGTH)))))
        {
            if (rank == 0)
            {
                System.out.println("# Aeron " + comm.transport() + " worldSize=" + worldSize + (offHeap ?
                    " data off-heap (direct buffer)" : " data float[]") + " " + settings);
                System.out.println("# bytes floats iterations median_us min_us algbw_GBps busbw_GBps");
            }
            warmUp(comm, Long.getLong("bench.warmupMs", 4000));
            for (final long bytes : sizes)
            {
                final int floats = (int)(bytes / Float.BYTES);
                final float[] data = offHeap ? null : new float[floats];
                final ByteBuffer direct = offHeap ?
                    ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()) : null;
                for (int i = 0; i < floats; i++)
                {
                    if (offHeap)
                    {
                        direct.putFloat(i * Float.BYTES, (i % 1000) * 1e-3f);
                    }
                    else
                    {
                        data[i] = (i % 1000) * 1e-3f;
                    }
                }
                final int iterations = (int)Math.max(5, Math.min(300, (2L << 30) / Math.max(bytes, 1) / 8));
                final int warmup = Math.max(2, iterations / 5);
                final long[] timesNs = new long[iterations];
                for (int it = -warmup; it < iterations; it++)
                {
                    comm.barrier();
                    final long startNs = System.nanoTime();
                    if (offHeap)
                    {
                        comm.allReduce(direct, ReduceOp.SUM);
                    }
                    else
                    {
                        comm.allReduce(data, ReduceOp.SUM);
                    }
                    if (it >= 0)
                    {
                        timesNs[it] = System.nanoTime() - startNs;
                    }
                }
                report(rank, worldSize, "allReduce", (long)floats * Float.BYTES, floats, timesNs);
            }
            final double[] stats = new double[128];
            final long[] timesNs = new long[2000];
            for (int it = -200; it < timesNs.length; it++)
            {
                final long startNs = System.nanoTime();
                comm.allReduceSmall(stats, ReduceOp.SUM);
                if (it >= 0)
                {
                    timesNs[it] = System.nanoTime() - startNs;
                }
            }
            report(rank, worldSize, "allReduceSmall(double[128])", 1024, 128, timesNs);
            final float[] kb = new float[256];
            for (int it = -200; it < timesNs.length; it++)
            {
                final long startNs = System.nanoTime();
                comm.allReduce(kb, ReduceOp.SUM);
                if (it >= 0)
                {
                    timesNs[it] = System.nanoTime() - startNs;
                }
            }
            report(rank, worldSize, "allReduce(float[256]) back-to-back", 1024, 256, timesNs);
        }
    }

    /** Each rank's address from {@code bench.hosts}, or 127.0.0.1 for all (every rank on this host's loopback). */
    private static String[] hosts(final int worldSize)
    {
        final String list = System.getProperty("bench.hosts");
        if (list == null || list.isBlank())
        {
            final String[] loopback = new String[worldSize];
            Arrays.fill(loopback, "127.0.0.1");
            return loopback;
        }
        final String[] hosts = list.split(",");
        if (hosts.length != worldSize)
        {
            throw new IllegalArgumentException("bench.hosts=" + list + " names " + hosts.length + " hosts for " +
                worldSize + " ports");
        }
        return hosts;
    }

    /**
     * Steady state, not first contact: JIT-compiles the collective and driver paths and cycles every log buffer at
     * least once (all ranks loop the same sequence, rank 0 decides when to stop).
     */
    private static void warmUp(final AeronCommunicator comm, final long millis)
    {
        final float[] data = new float[4 << 20];
        final double[] small = new double[128];
        final float[] stop = new float[1];
        final long endNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        do
        {
            for (final int floats : new int[] {256, 4096, 16384, 65536, 262144, 1 << 20, 4 << 20})
            {
                for (int i = 0; i < Math.max(1, 65536 / floats); i++)
                {
                    comm.allReduce(data, 0, floats, ReduceOp.SUM);
                    comm.allReduceSmall(small, ReduceOp.SUM);
                }
            }
            stop[0] = comm.rank() == 0 && System.nanoTime() - endNs >= 0 ? 1 : 0;
            comm.allReduce(stop, ReduceOp.SUM);
        }
        while (stop[0] == 0);
    }

    private static void report(final int rank, final int worldSize, final String what, final long bytes,
        final int elements, final long[] timesNs)
    {
        if (rank != 0)
        {
            return;
        }
        final long[] sorted = timesNs.clone();
        Arrays.sort(sorted);
        final double medianNs = sorted.length % 2 == 1 ? sorted[sorted.length / 2] :
            (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
        final double algbw = bytes / medianNs;
        final double busbw = algbw * 2.0 * (worldSize - 1) / worldSize;
        System.out.printf("%s %d %d %d %.1f %.1f %.3f %.3f%n", what, bytes, elements, sorted.length,
            medianNs / 1e3, sorted[0] / 1e3, algbw, busbw);
        System.out.flush();
    }
}
