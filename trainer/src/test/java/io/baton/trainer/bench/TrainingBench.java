package io.baton.trainer.bench;

import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.replica.SynchronousStep;
import io.baton.trainer.replica.ThreadCommunicator;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (not a test): synchronous replica training steps (SyncBatchNorm, flat-gradient all-reduce, Baton's
 * SGD) of one rank, with a per-step time breakdown. Run by {@code bench/training/run.sh}, one JVM per rank.
 *
 * <p>Args: {@code rank worldSize ports arch batchPerReplica height width steps warmupSteps}; ports is a
 * comma-separated UDP port per rank on 127.0.0.1 (ignored for world size 1, which runs without communication).
 */
public final class TrainingBench
{
    private TrainingBench()
    {
    }

    public static void main(final String[] args)
    {
        NativeRuntime.configure();
        final int rank = Integer.parseInt(args[0]);
        final int world = Integer.parseInt(args[1]);
        final String[] ports = args[2].split(",");
        final String arch = args[3];
        final int batch = Integer.parseInt(args[4]);
        final int height = Integer.parseInt(args[5]);
        final int width = Integer.parseInt(args[6]);
        final int steps = Integer.parseInt(args[7]);
        final int warmup = Integer.parseInt(args[8]);

        final ModelOptions options = ModelOptions.builder(arch).input(height, width, 3).numClasses(10).seed(7).build();
        final NormLayerFactory syncBn = spec -> spec.applyTo(new SyncBatchNorm());
        // As the replica builds it by default (TrainingRecipe: replica layers, convolutions on Baton's oneDNN path);
        // -Dbench.layers=dl4j keeps DL4J's layers, -Dbench.layers=replica-dl4j Baton's layers with DL4J's convolution
        // helper (model.conv-engine = dl4j), -Dbench.layers=replica-unfused Baton's layers without the ReLUs folded into
        // SyncBatchNorm and the residual adds, for an A/B
        final org.deeplearning4j.nn.conf.ComputationGraphConfiguration zoo =
            ResNetZoo.configuration(options, syncBn, new NoOp());
        final String layers = System.getProperty("bench.layers", "replica");
        final ComputationGraph graph = new ComputationGraph("dl4j".equals(layers) ? zoo
            : io.baton.trainer.layers.ReplicaLayers.toReplica(zoo, "replica-dl4j".equals(layers)
                ? io.baton.trainer.layers.ReplicaConvolution.ENGINE_DL4J
                : io.baton.trainer.layers.ReplicaConvolution.ENGINE_ONEDNN, !"replica-unfused".equals(layers)));
        graph.init();
        System.out.println("layers=" + layers + " ReLUs folded: "
            + io.baton.trainer.layers.ReplicaLayers.countFusedRelus(graph.getConfiguration()) + " convolution engines: "
            + io.baton.trainer.layers.ReplicaLayers.convolutionEngines(graph) + " (Baton's oneDNN: "
            + io.baton.trainer.layers.ReplicaLayers.oneDnnStatus() + ")");
        final PhaseTimingCommunicator comm = new PhaseTimingCommunicator(communicator(rank, world, ports));
        try
        {
            // -Dbench.syncbn=local: SyncBatchNorm normalises with this replica's own statistics (no per-layer
            // collectives), only the gradient all-reduce synchronises the ranks; isolates the cost of the ~2 x 53
            // per-step synchronisation points from the rest.
            final boolean localBn = "local".equals(System.getProperty("bench.syncbn", "world"));
            SyncBatchNorm.bind(graph, localBn ? ThreadCommunicator.world(1, 60_000).get(0) : comm);
            final LargeBatchSgd sgd = new LargeBatchSgd(ParamLayout.of(graph),
                SgdSettings.momentum(0.9, false).withWeightDecay(1e-4));
            final SynchronousStep step = new SynchronousStep(graph, comm, 0, sgd);
            step.broadcastInitialState();
            Nd4j.getRandom().setSeed(100 + rank);
            final INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, height, width);
            final INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 10);
            for (int i = 0; i < batch; i++)
            {
                y.putScalar(i, (i * 7 + rank) % 10, 1.0);
            }
            final List<double[]> phases = new ArrayList<>();
            final List<Double> losses = new ArrayList<>();
            comm.barrier();
            final long runStartNs = System.nanoTime();
            long measuredStartNs = runStartNs;
            for (int s = 0; s < warmup + steps; s++)
            {
                if (s == warmup)
                {
                    profiler("bench.profiler.start");
                    measuredStartNs = System.nanoTime();
                }
                comm.reset();
                final long startNs = System.nanoTime();
                losses.add(step.step(x, y, batch * world, 0.01).localLoss());
                final long endNs = System.nanoTime();
                if (s >= warmup)
                {
                    phases.add(breakdown(comm, world, startNs, endNs));
                    if (Boolean.getBoolean("bench.trace"))
                    {
                        System.out.println("STEP " + (s - warmup) + " "
                            + Arrays.toString(phases.get(phases.size() - 1)));
                    }
                }
            }
            final double wallS = (System.nanoTime() - measuredStartNs) / 1e9;
            profiler("bench.profiler.stop");
            report(rank, world, arch, batch, height, graph.numParams(), phases, wallS);
            System.out.println("LOSSES rank=" + rank + " " + losses);
            writeParams(rank, graph);
        }
        finally
        {
            comm.close();
        }
    }

    /**
     * -Dbench.profiler.lib=PATH (async-profiler's libasyncProfiler.so, its jar on the class path) with
     * -Dbench.profiler.start=... / -Dbench.profiler.stop=...: async-profiler commands run at the first measured step
     * and after the last one, so the profile holds warm steps only (bench/profile/profile-step.sh). Reflection keeps
     * async-profiler out of the build.
     */
    private static void profiler(final String commandProperty)
    {
        final String lib = System.getProperty("bench.profiler.lib");
        final String command = System.getProperty(commandProperty);
        if (lib == null || command == null)
        {
            return;
        }
        try
        {
            final Class<?> type = Class.forName("one.profiler.AsyncProfiler");
            final Object profiler = type.getMethod("getInstance", String.class).invoke(null, lib);
            System.out.println("PROFILER " + command + " -> "
                + String.valueOf(type.getMethod("execute", String.class).invoke(profiler, command)).trim());
        }
        catch (final ReflectiveOperationException e)
        {
            throw new IllegalStateException("async-profiler: " + command, e);
        }
    }

    /** {total, fwd+bwd without SyncBN comm, SyncBN comm, gradient all-reduce, updater} in ms. */
    private static double[] breakdown(
        final PhaseTimingCommunicator comm, final int world, final long startNs, final long endNs)
    {
        final double total = (endNs - startNs) / 1e6;
        final double small = comm.smallNs() / 1e6;
        if (world == 1)
        {
            // No all-reduce happens: the optimiser time is the rest of the step after forward+backward, which this
            // harness cannot split without one; report it as unsplit (NaN) and all of it as forward+backward+update.
            return new double[] {total, Double.NaN, small, 0, Double.NaN};
        }
        final double fwdBwd = (comm.bigStartNs() - startNs) / 1e6 - small;
        final double allReduce = (comm.bigEndNs() - comm.bigStartNs()) / 1e6;
        final double updater = (endNs - comm.bigEndNs()) / 1e6;
        return new double[] {total, fwdBwd, small, allReduce, updater};
    }

    private static void report(
        final int rank, final int world, final String arch, final int batch, final int size, final long params,
        final List<double[]> phases, final double wallS)
    {
        final String[] names = {"step_ms", "fwd_bwd_ms", "syncbn_comm_ms", "grad_allreduce_ms", "updater_ms"};
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
            "RESULT rank=%d world=%d arch=%s input=%d batch_per_replica=%d params=%d steps=%d", rank, world, arch,
            size, batch, params, phases.size()));
        for (int k = 0; k < names.length; k++)
        {
            final double[] v = new double[phases.size()];
            for (int i = 0; i < v.length; i++)
            {
                v[i] = phases.get(i)[k];
            }
            Arrays.sort(v);
            sb.append(String.format(Locale.ROOT, " %s=%.1f", names[k], v[v.length / 2]));
        }
        sb.append(String.format(Locale.ROOT, " wall_s=%.2f images_per_s=%.2f", wallS,
            (double)phases.size() * batch * world / wallS));
        System.out.println(sb);
    }

    /**
     * -Dbench.paramsOut=FILE: rank 0 writes its parameters there after the last step, as little-endian float32 (for
     * the distance between runs with different settings, bench/training/compression.sh).
     */
    private static void writeParams(final int rank, final ComputationGraph graph)
    {
        final String path = System.getProperty("bench.paramsOut");
        if (path == null || rank != 0)
        {
            return;
        }
        final float[] params = graph.params().dup().data().asFloat();
        final java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(params.length * Float.BYTES)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(params);
        try
        {
            java.nio.file.Files.write(java.nio.file.Path.of(path), bytes.array());
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    private static Communicator communicator(final int rank, final int world, final String[] ports)
    {
        if (world == 1)
        {
            return ThreadCommunicator.world(1, 60_000).get(0);
        }
        // -Dbench.driverDir=DIR: IPC through that external media driver (replicas sharing a host); else UDP on
        // 127.0.0.1 with an embedded driver per JVM.
        return BenchCollectives.connect(rank, Arrays.stream(ports).limit(world).mapToInt(Integer::parseInt).toArray(),
            "training-bench", CollectiveSettings.DriverMode.EXTERNAL, System.getProperty("bench.driverDir"));
    }
}
