package io.baton.coordinator.cli;

import io.baton.coordinator.plan.ModelFacts;
import io.baton.coordinator.plan.Projection;
import io.baton.coordinator.plan.ReplicaRange;
import io.baton.coordinator.plan.ScalingAssumptions;
import io.baton.coordinator.plan.ScalingAssumptions.SyncBnScaling;
import io.baton.coordinator.plan.ScalingModel;
import io.baton.trainer.model.ModelOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code baton plan}: projects a synchronous data-parallel job on a GPU cluster from paper numbers, not hardware —
 * step time, gradient all-reduce time, SyncBN time, scaling efficiency and memory per replica over ranges of
 * replica counts and link rates ({@link ScalingModel}). Prints its assumptions first.
 */
@Command(name = "plan", description = "Project step time, communication, scaling efficiency and memory on a GPU cluster.")
public final class PlanCommand implements Callable<Integer>
{
    @Option(names = "--arch", paramLabel = "NAME", defaultValue = "resnet152",
        description = "Zoo architecture (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--input", paramLabel = "H,W,C", split = ",",
        description = "Input height, width, channels (default: the architecture's, 224,224,3 for ImageNet nets).")
    int[] input;

    @Option(names = "--classes", paramLabel = "K", description = "Number of classes (default: the architecture's).")
    Integer classes;

    @Option(names = "--replicas", paramLabel = "RANGE", defaultValue = "8..512",
        description = "Replica counts: 8..512 (powers of two), or a list 8,64,256 (default: ${DEFAULT-VALUE}).")
    String replicas;

    @Option(names = "--link-gbps", paramLabel = "RANGE", defaultValue = "25..400",
        description = "Network link per node in Gbit/s: 25..400 (doubling: 25,50,100,200,400) or a list "
            + "(default: ${DEFAULT-VALUE}).")
    String links;

    @Option(names = "--images-per-sec-per-gpu", paramLabel = "X", required = true,
        description = "Training throughput of one replica alone at --batch-per-replica (from a benchmark or paper).")
    double imagesPerSec;

    @Option(names = "--batch-per-replica", paramLabel = "B", defaultValue = "32",
        description = "Images per replica per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--ring-efficiency", paramLabel = "E",
        description = "Achieved fraction of the link rate for the gradient all-reduce (default: Baton's ring measured "
            + "on loopback, 0.75; see docs/BENCHMARKS.md).")
    Double ringEfficiency;

    @Option(names = "--syncbn-latency-us", paramLabel = "L",
        description = "One SyncBN small all-reduce between 2 replicas, us; 0 = no SyncBN (default: 45.6, measured).")
    Double syncBnLatencyUs;

    @Option(names = "--syncbn-scaling", paramLabel = "log|linear", defaultValue = "log",
        description = "Growth of the SyncBN latency with N: log (log2 N rounds) or linear (N - 1 hops) "
            + "(default: ${DEFAULT-VALUE}).")
    String syncBnScaling;

    @Option(names = "--gpus-per-node", paramLabel = "G", defaultValue = "1",
        description = "Replicas sharing one node's link (default: ${DEFAULT-VALUE}).")
    int gpusPerNode;

    @Option(names = "--intra-node-gbps", paramLabel = "GBPS", defaultValue = "400",
        description = "Bandwidth between replicas of one node, Gbit/s (default: ${DEFAULT-VALUE}).")
    double intraNodeGbps;

    @Option(names = "--overlap", paramLabel = "F", defaultValue = "0",
        description = "Fraction of the backward pass that hides the all-reduce: 0 = all-reduce after backward (Baton's "
            + "default), 1 = fully bucketed overlap (train.overlap-allreduce=true, where the replica has cores or a "
            + "GPU to spare for it) (default: ${DEFAULT-VALUE}).")
    double overlap;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        if (batch <= 0)
        {
            throw new IllegalArgumentException("--batch-per-replica must be > 0, was " + batch);
        }
        final List<Integer> ns = ReplicaRange.parseInts("--replicas", replicas);
        final List<Double> gbps = ReplicaRange.parse("--link-gbps", links, false);
        final SyncBnScaling scaling;
        try
        {
            scaling = SyncBnScaling.valueOf(syncBnScaling.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--syncbn-scaling must be log or linear, was " + syncBnScaling, ex);
        }
        final ScalingAssumptions a = ScalingAssumptions.baton(imagesPerSec, batch)
            .withRingEfficiency(ringEfficiency != null ? ringEfficiency : ScalingAssumptions.BATON_RING_EFFICIENCY)
            .withSyncBn(syncBnLatencyUs != null ? syncBnLatencyUs : ScalingAssumptions.BATON_SYNCBN_LATENCY_US, scaling)
            .withNodes(gpusPerNode, intraNodeGbps)
            .withOverlap(overlap);
        ModelOptions.Builder builder = ModelOptions.builder(arch);
        if (input != null)
        {
            if (input.length != 3)
            {
                throw new IllegalArgumentException("--input must be H,W,C, was " + java.util.Arrays.toString(input));
            }
            builder = builder.input(input[0], input[1], input[2]);
        }
        if (classes != null)
        {
            builder = builder.numClasses(classes);
        }
        final ModelOptions options = builder.build();
        final ModelFacts facts = ModelFacts.of(options, batch);

        final PrintWriter out = spec.commandLine().getOut();
        printAssumptions(out, options, facts, a);
        out.println();
        out.println("| replicas | link Gbit/s | compute ms | all-reduce ms | exposed ms | SyncBN ms | step ms "
            + "| efficiency | images/s | link to hide Gbit/s |");
        out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (final int n : ns)
        {
            for (final double g : gbps)
            {
                final Projection p = ScalingModel.project(facts.gradientBytes(), facts.bnLayers(), n, g, a);
                out.printf(Locale.ROOT, "| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f | %.0f | %.1f |%n",
                    n, trim(g), p.computeMs(), p.allReduceMs(), p.exposedAllReduceMs(), p.syncBnMs(), p.stepMs(),
                    p.efficiency(), p.imagesPerSec(), p.linkToHideGbps());
            }
        }
        out.flush();
        return 0;
    }

    private static void printAssumptions(
        final PrintWriter out, final ModelOptions options, final ModelFacts facts, final ScalingAssumptions a)
    {
        out.printf(Locale.ROOT, "model: %s, input %dx%dx%d, %d classes: %,d DL4J params -> gradient %.1f MB "
                + "(float32), %d BatchNormalization layers%n", facts.architecture(), options.inputHeight(),
            options.inputWidth(), options.inputChannels(), options.numClasses(), facts.dl4jParams(),
            facts.gradientBytes() / 1e6, facts.bnLayers());
        out.printf(Locale.ROOT, "memory per replica: %.2f GB (DL4J training memory estimate at batch %d, float32)%n",
            facts.trainingMemoryBytes() / 1e9, a.batchPerReplica());
        out.println("assumptions:");
        out.printf(Locale.ROOT, "  compute = batch / throughput = %d / %s img/s (one replica alone: forward, "
            + "backward, update); backward = %.0f%% of it%n", a.batchPerReplica(), trim(a.imagesPerSecPerGpu()),
            100 * a.backwardFraction());
        out.printf(Locale.ROOT, "  gradient all-reduce = ring, 2(N-1)/N x %.1f MB / (link x efficiency %.2f)%s; "
                + "bottleneck = node link when the ring spans nodes (%d replica(s) per node, intra-node %s Gbit/s)%n",
            facts.gradientBytes() / 1e6, a.ringEfficiency(),
            a.ringEfficiency() == ScalingAssumptions.BATON_RING_EFFICIENCY
                ? " [Baton's ring on loopback: Aeron IPC 220 ms vs MPI shared memory 166 ms for 241 MB, "
                + "docs/BENCHMARKS.md issue 3]" : "",
            a.gpusPerNode(), trim(a.intraNodeGbps()));
        out.printf(Locale.ROOT, "  overlap = %.2f of the backward pass hides the all-reduce (0 = all-reduce after "
            + "backward, Baton's default; train.overlap-allreduce=true overlaps it)%n", a.overlap());
        out.printf(Locale.ROOT, "  SyncBN = 2 x %d layers x %s us x %s(N) on the critical path%s%n", facts.bnLayers(),
            trim(a.syncBnLatencyUs()), a.syncBnScaling() == SyncBnScaling.LOG ? "log2" : "(N-1) x 1",
            a.syncBnLatencyUs() == ScalingAssumptions.BATON_SYNCBN_LATENCY_US
                ? " [Baton's 1 KB all-reduce, Aeron IPC, 2 processes, loaded run; UDP measured 130-400 us]" : "");
        out.println("  not modelled: stragglers, data loading, the all-reduce's per-hop latency, optimizer time, "
            + "GPU memory bandwidth; efficiency = compute / step (vs one replica alone)");
    }

    private static String trim(final double v)
    {
        return v == Math.rint(v) ? Long.toString((long)v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
