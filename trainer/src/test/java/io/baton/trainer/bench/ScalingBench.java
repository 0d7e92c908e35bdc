package io.baton.trainer.bench;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.replica.OverlappedAllReduce;
import io.baton.trainer.replica.SynchronousStep;
import io.baton.trainer.replica.ThreadCommunicator;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark (not a test): scaling efficiency of synchronous training on one core per replica, with the three
 * configurations it compares interleaved step by step in the same two JVMs. {@code TrainingBench} measures them in
 * separate JVM launches one after the other, so JIT state and the shared host's speed differ between numerator and
 * denominator; on this VM the host's speed drifts by +-20 % within seconds. Here both JVMs stay up, each holds a
 * world-2 replica (SyncBatchNorm over both ranks, flat-gradient all-reduce over {@link AeronCommunicator}, UDP
 * or, with {@code -Dbench.sharedDriverDir}, IPC through the host-shared driver; Baton's SGD) and its own world-1
 * replica of the same model, and every cycle runs one step of each configuration:
 *
 * <ul>
 *   <li>{@code solo}: rank 0 steps its world-1 replica; rank 1 blocks on a socket read (its core is idle);</li>
 *   <li>{@code sync}: both ranks step the world-2 replica pair;</li>
 *   <li>{@code pair}: both ranks step their own world-1 replica at the same time, without communication (what the
 *       machine gives when both cores compute).</li>
 * </ul>
 *
 * The order alternates between cycles (solo sync pair, pair sync solo) and every step starts after the previous
 * one ended on both ranks (rank 1 acknowledges each command over a TCP connection). The world-2 communicator stays
 * open throughout, so its driver keeper (one duty cycle every 10 ms) runs during all three configurations.
 * Throughput of a configuration = images / the sum of its measured step times; efficiency = sync / (2 x solo);
 * machine = pair / (2 x solo); sync factor = sync / pair, split into imbalance (the lock-step bound: two images
 * per max(rank 0's, rank 1's) pair step of the same cycle, over pair) and baton (sync over that bound).
 *
 * <p>With {@code -Dbench.idleB=KIND[:maxSpins:maxYields:minParkNs:maxParkNs]} each JVM also holds a second world-2
 * replica whose communicator waits with that idle strategy, and every cycle steps it too ({@code syncB}, next to
 * {@code sync} in the order): an A/B comparison of how a replica waits, on the same moments of the host. Its
 * VARIANT_B line gives both throughputs and the per-cycle ratio.
 *
 * <p>Args: {@code rank controlPort aeronBasePort arch batchPerReplica size cycles warmupCycles}. Ranks talk over
 * 127.0.0.1: TCP on controlPort (rank 0 listens), Aeron UDP on aeronBasePort + rank. Run by
 * {@code bench/training/scaling.sh}.
 */
public final class ScalingBench
{
    private static final int SOLO = 0;
    private static final int SYNC = 1;
    private static final int PAIR = 2;
    private static final int SYNC_B = 3;
    private static final int STOP = 4;
    private static final int[][] ORDERS = {{SOLO, SYNC, PAIR}, {PAIR, SYNC, SOLO}};
    private static final int[][] ORDERS_WITH_B = {{SOLO, SYNC, SYNC_B, PAIR}, {PAIR, SYNC_B, SYNC, SOLO}};

    private final int batch;
    private final SynchronousStep local;
    private final SynchronousStep synced;
    private final PhaseTimingCommunicator syncComm;
    /** The variant B world-2 replica ({@code -Dbench.idleB}), or null. */
    private final SynchronousStep syncedB;
    private final PhaseTimingCommunicator syncCommB;
    /** Variant B's overlapped gradient all-reduce ({@code -Dbench.overlapB}), or null. */
    private final OverlappedAllReduce overlapReducerB;
    private final List<Double> overlapWaitMsB = new ArrayList<>();
    private final INDArray x;
    private final INDArray y;
    private final List<double[]> syncBreakdowns = new ArrayList<>();
    private final List<double[]> syncBreakdownsB = new ArrayList<>();
    private int followedSyncSteps;

    private ScalingBench(final int rank, final int aeronBasePort, final String arch, final int batch, final int size)
    {
        this.batch = batch;
        final ModelOptions options = ModelOptions.builder(arch).input(size, size, 3).numClasses(10).seed(7).build();
        final NormLayerFactory syncBn = spec -> spec.applyTo(new SyncBatchNorm());
        final Communicator alone = ThreadCommunicator.world(1, 60_000).get(0);
        local = replica(ResNetZoo.graph(options, syncBn, new NoOp()), alone, alone);
        syncComm = new PhaseTimingCommunicator(aeron(rank, aeronBasePort));
        // -Dbench.syncbn=local: the world-2 replica's SyncBatchNorm layers normalise with their own rank's statistics,
        // so only the gradient all-reduce synchronises the ranks (once per step instead of at every BN layer).
        final boolean localBn = "local".equals(System.getProperty("bench.syncbn", "world"));
        synced = replica(ResNetZoo.graph(options, syncBn, new NoOp()), syncComm,
            localBn ? ThreadCommunicator.world(1, 60_000).get(0) : syncComm);
        synced.broadcastInitialState();
        // -Dbench.idleB=KIND[:spins:yields:minParkNs:maxParkNs]: a second world-2 replica pair whose communicator waits
        // with that idle strategy, stepped in the same cycles (A/B of the waiting policy on the same host moments).
        // -Dbench.overlapB=BYTES: variant B reduces its gradient with the OverlappedAllReduce (buckets of BYTES) on a
        // second communicator (same ports, next stream id), as a Spark replica with train.overlap-allreduce does.
        final String idleB = System.getProperty("bench.idleB");
        final String overlapB = System.getProperty("bench.overlapB");
        if (idleB == null && overlapB == null)
        {
            syncedB = null;
            syncCommB = null;
            overlapReducerB = null;
        }
        else
        {
            final int[] portsB = {aeronBasePort + 2, aeronBasePort + 3};
            syncCommB = new PhaseTimingCommunicator(BenchCollectives.connect(rank, portsB, "scaling-bench-b",
                CollectiveSettings.DriverMode.SHARED, System.getProperty("bench.sharedDriverDir"),
                b -> BenchCollectives.idle(b, idleB == null ? System.getProperty("bench.idle") : idleB)));
            final ComputationGraph graphB = ResNetZoo.graph(options, syncBn, new NoOp());
            syncedB = replica(graphB, syncCommB, syncCommB);
            syncedB.broadcastInitialState();
            if (overlapB == null)
            {
                overlapReducerB = null;
            }
            else
            {
                overlapReducerB = new OverlappedAllReduce(graphB, BenchCollectives.connect(rank, portsB,
                    OverlappedAllReduce.communicatorJobId("scaling-bench-b"), CollectiveSettings.DriverMode.SHARED,
                    System.getProperty("bench.sharedDriverDir"), b ->
                    {
                        // -Dbench.overlapIdle=SPEC: how the communication thread waits, apart from the training thread.
                        final String overlapIdle = System.getProperty("bench.overlapIdle");
                        BenchCollectives.idle(b, overlapIdle != null ? overlapIdle
                            : idleB == null ? System.getProperty("bench.idle") : idleB);
                        b.streamId(CollectiveSettings.DEFAULT_STREAM_ID + 1); // as communicatorSettings does
                    }), Long.parseLong(overlapB));
                syncedB.overlap(overlapReducerB);
                if (rank == 0)
                {
                    System.out.println("OVERLAP_B " + overlapReducerB.plan().buckets().size() + " buckets of "
                        + graphB.numParams() + " floats");
                }
            }
        }
        Nd4j.getRandom().setSeed(100 + rank);
        x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size);
        y = Nd4j.zeros(DataType.FLOAT, batch, 10);
        for (int i = 0; i < batch; i++)
        {
            y.putScalar(i, (i * 7 + rank) % 10, 1.0);
        }
    }

    private static SynchronousStep replica(final ComputationGraph graph, final Communicator comm,
        final Communicator bnComm)
    {
        SyncBatchNorm.bind(graph, bnComm);
        final LargeBatchSgd sgd = new LargeBatchSgd(ParamLayout.of(graph),
            SgdSettings.momentum(0.9, false).withWeightDecay(1e-4));
        return new SynchronousStep(graph, comm, 0, sgd);
    }

    public static void main(final String[] args) throws IOException
    {
        NativeRuntime.configure();
        final int rank = Integer.parseInt(args[0]);
        final int controlPort = Integer.parseInt(args[1]);
        final int aeronBasePort = Integer.parseInt(args[2]);
        final String arch = args[3];
        final int batch = Integer.parseInt(args[4]);
        final int size = Integer.parseInt(args[5]);
        final int cycles = Integer.parseInt(args[6]);
        final int warmup = Integer.parseInt(args[7]);
        final ScalingBench bench = new ScalingBench(rank, aeronBasePort, arch, batch, size);
        try
        {
            if (rank == 0)
            {
                try (ServerSocket server = new ServerSocket(controlPort, 1, InetAddress.getLoopbackAddress());
                    Socket peer = server.accept())
                {
                    peer.setTcpNoDelay(true);
                    final double[][] stepMs = bench.lead(new DataInputStream(peer.getInputStream()),
                        new DataOutputStream(peer.getOutputStream()), cycles, warmup);
                    report(arch, size, batch, warmup, stepMs, bench.syncBreakdowns);
                    if (bench.syncedB != null)
                    {
                        reportB(batch, stepMs, bench.syncBreakdownsB, bench.overlapWaitMsB);
                    }
                }
            }
            else
            {
                try (Socket peer = connect(controlPort))
                {
                    peer.setTcpNoDelay(true);
                    bench.follow(new DataInputStream(peer.getInputStream()),
                        new DataOutputStream(peer.getOutputStream()));
                }
            }
        }
        finally
        {
            bench.syncComm.close();
            if (bench.overlapReducerB != null)
            {
                bench.overlapReducerB.close();
            }
            if (bench.syncCommB != null)
            {
                bench.syncCommB.close();
            }
        }
    }

    /** Returns step ms per measured cycle: {solo, sync, pair rank 0, pair rank 1}. */
    private double[][] lead(final DataInputStream in, final DataOutputStream out, final int cycles, final int warmup)
        throws IOException
    {
        final double[][] stepMs = new double[5][cycles];
        final int[][] orders = syncedB == null ? ORDERS : ORDERS_WITH_B;
        for (int c = 0; c < warmup + cycles; c++)
        {
            final boolean measured = c >= warmup;
            for (final int config : orders[c % orders.length])
            {
                if (config != SOLO)
                {
                    out.writeInt(config);
                    out.flush();
                }
                syncComm.reset();
                if (syncCommB != null)
                {
                    syncCommB.reset();
                }
                final long overlapWaitStartNs = syncedB == null ? 0 : syncedB.overlapWaitNs();
                final long startNs = System.nanoTime();
                step(config);
                final long endNs = System.nanoTime();
                // Rank 1 answers when its step ended (its pair step's ms, or 0): the next step starts on both
                // cores only after this one ended on both.
                final double peerMs = config == SOLO ? 0 : in.readDouble();
                if (!measured)
                {
                    continue;
                }
                final int i = c - warmup;
                final double ms = (endNs - startNs) / 1e6;
                if (config == PAIR)
                {
                    stepMs[2][i] = ms;
                    stepMs[3][i] = peerMs;
                }
                else if (config == SYNC_B)
                {
                    stepMs[4][i] = ms;
                    syncBreakdownsB.add(breakdown(syncCommB, ms, startNs, endNs));
                    overlapWaitMsB.add((syncedB.overlapWaitNs() - overlapWaitStartNs) / 1e6);
                }
                else
                {
                    stepMs[config][i] = ms;
                }
                if (config == SYNC)
                {
                    syncBreakdowns.add(breakdown(syncComm, ms, startNs, endNs));
                    printCalls(i);
                }
            }
            if (measured)
            {
                final int i = c - warmup;
                System.out.printf(Locale.ROOT, "CYCLE %d solo_ms=%.1f sync_ms=%.1f pair_ms=%.1f/%.1f%s%n", i,
                    stepMs[0][i], stepMs[1][i], stepMs[2][i], stepMs[3][i],
                    syncedB == null ? "" : String.format(Locale.ROOT, " syncB_ms=%.1f", stepMs[4][i]));
            }
        }
        out.writeInt(STOP);
        out.flush();
        return stepMs;
    }

    /**
     * With {@code -Dbench.calls=true}: prints the wall microseconds of each SyncBN all-reduce of a sync step, in call
     * order (rank 1 numbers its sync steps from the first, warm-up included). Comparing the two ranks' lines shows
     * where in the step each one waited for the other.
     */
    private void printCalls(final int step)
    {
        if (Boolean.getBoolean("bench.calls"))
        {
            final StringBuilder line = new StringBuilder("CALLS step=").append(step);
            for (final long ns : syncComm.smallCallNs())
            {
                line.append(' ').append(ns / 1000);
            }
            System.out.println(line);
        }
    }

    private void step(final int config)
    {
        final boolean world2 = config == SYNC || config == SYNC_B;
        (config == SYNC ? synced : config == SYNC_B ? syncedB : local).step(x, y, world2 ? 2 * batch : batch, 0.01);
    }

    private static double[] breakdown(final PhaseTimingCommunicator comm, final double ms, final long startNs,
        final long endNs)
    {
        final double small = comm.smallNs() / 1e6;
        return new double[] {ms, (comm.bigStartNs() - startNs) / 1e6 - small, small,
            (comm.bigEndNs() - comm.bigStartNs()) / 1e6, (endNs - comm.bigEndNs()) / 1e6,
            comm.smallCpuNs() / 1e6, comm.bigCpuNs() / 1e6};
    }

    private void follow(final DataInputStream in, final DataOutputStream out) throws IOException
    {
        while (true)
        {
            final int config = in.readInt();
            if (config == STOP)
            {
                return;
            }
            syncComm.reset();
            final long startNs = System.nanoTime();
            step(config);
            if (config == SYNC)
            {
                printCalls(followedSyncSteps++);
            }
            out.writeDouble(config == PAIR ? (System.nanoTime() - startNs) / 1e6 : 0);
            out.flush();
        }
    }

    private static void report(final String arch, final int size, final int batch, final int warmup,
        final double[][] stepMs, final List<double[]> syncBreakdowns)
    {
        final int cycles = stepMs[0].length;
        final double solo = imagesPerSecond(stepMs[0], batch);
        final double sync = imagesPerSecond(stepMs[1], 2 * batch);
        final double pair0 = imagesPerSecond(stepMs[2], batch);
        final double pair1 = imagesPerSecond(stepMs[3], batch);
        final double[] perCycle = new double[cycles];
        for (int i = 0; i < cycles; i++)
        {
            perCycle[i] = stepMs[0][i] / stepMs[1][i]; // = sync img/s / (2 x solo img/s) for that cycle
        }
        final double lockStep = lockStepBound(stepMs, batch);
        final double[] breakdown = medians(syncBreakdowns);
        System.out.printf(Locale.ROOT,
            "SCALING arch=%s input=%d batch_per_replica=%d cycles=%d warmup=%d solo_img_s=%.2f sync_img_s=%.2f "
                + "pair_img_s=%.2f (%.2f + %.2f) efficiency=%.3f machine=%.3f sync_factor=%.3f = imbalance %.3f "
                + "x baton %.3f cycle_efficiency_median=%.3f (quartiles %.3f %.3f) median_ms: solo=%.1f sync=%.1f "
                + "pair=%.1f/%.1f "
                + "sync_fwd_bwd=%.1f syncbn_comm=%.1f grad_allreduce=%.1f updater=%.1f "
                + "(cpu of this thread: syncbn_comm=%.1f grad_allreduce=%.1f)%n",
            arch, size, batch, cycles, warmup, solo, sync, pair0 + pair1, pair0, pair1, sync / (2 * solo),
            (pair0 + pair1) / (2 * solo), sync / (pair0 + pair1), lockStep / (pair0 + pair1), sync / lockStep,
            quantile(perCycle, 0.5), quantile(perCycle, 0.25), quantile(perCycle, 0.75), quantile(stepMs[0], 0.5),
            quantile(stepMs[1], 0.5), quantile(stepMs[2], 0.5), quantile(stepMs[3], 0.5), breakdown[1], breakdown[2],
            breakdown[3], breakdown[4], breakdown[5], breakdown[6]);
    }

    /** Variant B against A, same cycles: efficiency, baton factor and SyncBN time of each. */
    private static void reportB(final int batch, final double[][] stepMs, final List<double[]> syncBreakdownsB,
        final List<Double> overlapWaitMs)
    {
        final int cycles = stepMs[0].length;
        int bFaster = 0;
        final double[] ratio = new double[cycles];
        for (int i = 0; i < cycles; i++)
        {
            ratio[i] = stepMs[1][i] / stepMs[4][i];
            bFaster += stepMs[4][i] < stepMs[1][i] ? 1 : 0;
        }
        final double solo = imagesPerSecond(stepMs[0], batch);
        final double lockStep = lockStepBound(stepMs, batch);
        final double syncA = imagesPerSecond(stepMs[1], 2 * batch);
        final double syncB = imagesPerSecond(stepMs[4], 2 * batch);
        final double[] breakdown = medians(syncBreakdownsB);
        System.out.printf(Locale.ROOT,
            "VARIANT_B idle=%s overlap=%s overlap_idle=%s sync_img_s=%.2f efficiency=%.3f baton=%.3f (A: %.2f, %.3f, %.3f) b_over_a=%.3f "
                + "b_faster_in=%d/%d cycle_b_over_a_median=%.3f (quartiles %.3f %.3f) median_ms: sync=%.1f "
                + "syncbn_comm=%.1f grad_allreduce=%.1f overlap_wait=%.1f (cpu: syncbn_comm=%.1f "
                + "grad_allreduce=%.1f)%n",
            System.getProperty("bench.idleB"), System.getProperty("bench.overlapB"),
            System.getProperty("bench.overlapIdle"), syncB, syncB / (2 * solo), syncB / lockStep, syncA, syncA / (2 * solo),
            syncA / lockStep, syncB / syncA, bFaster, cycles, quantile(ratio, 0.5), quantile(ratio, 0.25),
            quantile(ratio, 0.75), quantile(stepMs[4], 0.5), breakdown[2], breakdown[3],
            overlapWaitMs.isEmpty() ? Double.NaN
                : quantile(overlapWaitMs.stream().mapToDouble(Double::doubleValue).toArray(), 0.5),
            breakdown[5], breakdown[6]);
    }

    /** Throughput of steps taking {@code ms} each, {@code imagesPerStep} images per step. */
    private static double imagesPerSecond(final double[] ms, final int imagesPerStep)
    {
        return ms.length * (double)imagesPerStep * 1e3 / sum(ms);
    }

    /**
     * Lock step can go no faster than the slower core: with zero communication cost, a world-2 step would take
     * max(rank 0's, rank 1's) independent (pair) step time of its cycle. Splitting sync / pair into that bound
     * (imbalance) and what the synchronous step adds beyond it (Baton's own cost: collectives, waiting inside a
     * step) tells the machine's share from Baton's. Returns the bound's images per second.
     */
    private static double lockStepBound(final double[][] stepMs, final int batch)
    {
        final double[] slowerPairMs = new double[stepMs[2].length];
        Arrays.setAll(slowerPairMs, i -> Math.max(stepMs[2][i], stepMs[3][i]));
        return imagesPerSecond(slowerPairMs, 2 * batch);
    }

    private static double sum(final double[] values)
    {
        return Arrays.stream(values).sum();
    }

    private static Communicator aeron(final int rank, final int basePort)
    {
        // -Dbench.sharedDriverDir=DIR: the host-shared driver (collective.driver=shared) in DIR, which the first rank
        // starts, and IPC between the ranks; else UDP on 127.0.0.1 with an embedded driver per JVM.
        return BenchCollectives.connect(rank, new int[] {basePort, basePort + 1}, "scaling-bench",
            CollectiveSettings.DriverMode.SHARED, System.getProperty("bench.sharedDriverDir"));
    }

    private static Socket connect(final int port) throws IOException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (true)
        {
            try
            {
                return new Socket(InetAddress.getLoopbackAddress(), port);
            }
            catch (final IOException e)
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new UncheckedIOException("rank 0 never listened on control port " + port, e);
                }
                try
                {
                    Thread.sleep(200);
                }
                catch (final InterruptedException ie)
                {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting to control port " + port, ie);
                }
            }
        }
    }

    /**
     * Per-column medians of {step, fwd+bwd without SyncBN comm, SyncBN comm, gradient all-reduce, updater, this
     * thread's CPU time in the SyncBN comm, and in the gradient all-reduce} ms.
     */
    private static double[] medians(final List<double[]> rows)
    {
        final double[] result = new double[7];
        Arrays.fill(result, Double.NaN);
        if (rows.isEmpty())
        {
            return result;
        }
        for (int k = 0; k < result.length; k++)
        {
            final double[] column = new double[rows.size()];
            for (int i = 0; i < column.length; i++)
            {
                column[i] = rows.get(i)[k];
            }
            result[k] = quantile(column, 0.5);
        }
        return result;
    }

    private static double quantile(final double[] values, final double q)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final double pos = q * (sorted.length - 1);
        final int lo = (int)Math.floor(pos);
        final int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
