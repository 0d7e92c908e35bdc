package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.memory.MemoryUseMode;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Size of a network computed from its configuration alone (no parameters are allocated): per-stage output shapes
 * and parameters, parameter totals counted the torchvision way and the DL4J way, forward multiply-accumulates
 * (MACs) of convolutions and fully connected layers at the given input (what torchvision's model table calls
 * "GFLOPS", e.g. 4.09 for ResNet-50 at 224; FLOPs = 2 x MACs), and DL4J's training memory estimate for a batch.
 */
public final class ModelSummary
{
    private final String architecture;
    private final InputType input;
    private final long numClasses;
    private final int batchSize;
    private final List<StageSummary> stages;
    private final long trainingMemoryBytes;

    private ModelSummary(
        final String architecture,
        final InputType input,
        final long numClasses,
        final int batchSize,
        final List<StageSummary> stages,
        final long trainingMemoryBytes)
    {
        this.architecture = architecture;
        this.input = input;
        this.numClasses = numClasses;
        this.batchSize = batchSize;
        this.stages = List.copyOf(stages);
        this.trainingMemoryBytes = trainingMemoryBytes;
    }

    /**
     * @param options   the network (architecture, input and classes).
     * @param batchSize minibatch size for the memory estimate.
     * @return the summary.
     */
    public static ModelSummary of(final ModelOptions options, final int batchSize)
    {
        return of(options.architecture().name(), ResNetZoo.configuration(options), ResNetZoo.inputType(options),
            batchSize);
    }

    /**
     * @param name      label for the network.
     * @param conf      a zoo-style graph configuration (vertex names {@code stem_*}, {@code stage<S>_*}).
     * @param input     its input type.
     * @param batchSize minibatch size for the memory estimate, >= 1.
     * @return the summary.
     */
    public static ModelSummary of(
        final String name, final ComputationGraphConfiguration conf, final InputType input, final int batchSize)
    {
        if (batchSize < 1)
        {
            throw new IllegalArgumentException("batch size must be >= 1, batch=" + batchSize);
        }
        final Map<String, InputType> types = ResidualBlocks.activationTypes(conf, input);
        final List<ResidualBlock> blocks = ResidualBlocks.describe(conf, input);
        final Map<String, long[]> totals = new LinkedHashMap<>();
        final Map<String, String> outputs = new LinkedHashMap<>();
        totals.put("stem", new long[3]);
        outputs.put("stem", blocks.isEmpty() ? "" : shape(types.get(blocks.get(0).inputVertex())));
        for (final ResidualBlock block : blocks)
        {
            final String stage = "stage" + block.stage();
            totals.putIfAbsent(stage, new long[3]);
            outputs.put(stage, shape(types.get(block.outputVertex())));
        }
        totals.put("head", new long[3]);
        outputs.put("head", shape(types.get(conf.getNetworkOutputs().get(0))));

        final Map<String, List<String>> inputsOf = conf.getVertexInputs();
        for (final Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet())
        {
            final String group = group(e.getKey(), totals);
            final long[] t = totals.get(group);
            final GraphVertex vertex = e.getValue();
            if (vertex instanceof LayerVertex)
            {
                final Layer layer = ((LayerVertex)vertex).getLayerConf().getLayer();
                final long params = layer.initializer().numParams(layer);
                t[0] += layer instanceof BatchNormalization ?
                    params - 2 * ((BatchNormalization)layer).getNOut() : params;
                t[1] += params;
                t[2] += macs(layer, types.get(e.getKey()));
            }
            else
            {
                t[0] += vertex.numParams(true);
                t[1] += vertex.numParams(true);
            }
        }
        final List<StageSummary> stages = new ArrayList<>();
        for (final Map.Entry<String, long[]> e : totals.entrySet())
        {
            final long[] t = e.getValue();
            stages.add(new StageSummary(e.getKey(), outputs.get(e.getKey()), t[0], t[1], t[2]));
        }
        final long memory = conf.getMemoryReport(input)
            .getTotalMemoryBytes(batchSize, MemoryUseMode.TRAINING, CacheMode.NONE, DataType.FLOAT);
        final InputType out = types.get(conf.getNetworkOutputs().get(0));
        return new ModelSummary(name, input, out.arrayElementsPerExample(), batchSize, stages, memory);
    }

    public String architecture()
    {
        return architecture;
    }

    public List<StageSummary> stages()
    {
        return stages;
    }

    /**
     * @return parameters as torchvision counts them: weights, biases, BN gamma and beta.
     */
    public long torchvisionParams()
    {
        return stages.stream().mapToLong(StageSummary::torchvisionParams).sum();
    }

    /**
     * @return DL4J's {@code numParams()}: also BN running mean and variance.
     */
    public long dl4jParams()
    {
        return stages.stream().mapToLong(StageSummary::dl4jParams).sum();
    }

    /**
     * @return forward multiply-accumulates of convolutions and fully connected layers for one example.
     */
    public long forwardMacs()
    {
        return stages.stream().mapToLong(StageSummary::macs).sum();
    }

    /**
     * @return forward floating point operations for one example, counted as 2 x {@link #forwardMacs()}.
     */
    public long forwardFlops()
    {
        return 2 * forwardMacs();
    }

    /**
     * @return DL4J's estimate of training memory (parameters, updater state, activations, working memory) in
     *         bytes for float data at {@link #batchSize()}, no layer cache.
     */
    public long trainingMemoryBytes()
    {
        return trainingMemoryBytes;
    }

    public int batchSize()
    {
        return batchSize;
    }

    public long numClasses()
    {
        return numClasses;
    }

    /**
     * @return a human-readable table; the caller prints the final {@code params=} line.
     */
    public String format()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s  input %s  classes %d  batch %d%n",
            architecture, shape(input), numClasses, batchSize));
        sb.append(String.format(Locale.ROOT, "%-8s %-14s %16s %16s %14s%n",
            "stage", "output CxHxW", "params", "params (DL4J)", "MMACs"));
        for (final StageSummary s : stages)
        {
            sb.append(String.format(Locale.ROOT, "%-8s %-14s %,16d %,16d %,14.1f%n",
                s.name(), s.outputShape(), s.torchvisionParams(), s.dl4jParams(), s.macs() / 1e6));
        }
        sb.append(String.format(Locale.ROOT, "%-8s %-14s %,16d %,16d %,14.1f%n",
            "total", "", torchvisionParams(), dl4jParams(), forwardMacs() / 1e6));
        sb.append(String.format(Locale.ROOT,
            "parameters: %,d as torchvision counts (weights, biases, BN gamma/beta); %,d in DL4J " +
            "(+ BN running mean/var)%n", torchvisionParams(), dl4jParams()));
        sb.append(String.format(Locale.ROOT,
            "forward per example: %.3f GMACs = %.3f GFLOPs (conv + fc multiply-adds, x2 for FLOPs)%n",
            forwardMacs() / 1e9, forwardFlops() / 1e9));
        sb.append(String.format(Locale.ROOT,
            "training memory estimate (DL4J, float, batch %d, no cache): %,.1f MiB%n",
            batchSize, trainingMemoryBytes / (1024.0 * 1024.0)));
        return sb.toString();
    }

    public String toString()
    {
        return format();
    }

    private static String group(final String vertex, final Map<String, long[]> totals)
    {
        final int cut = vertex.indexOf('_');
        final String prefix = cut < 0 ? vertex : vertex.substring(0, cut);
        if (prefix.startsWith("stage") && totals.containsKey(prefix))
        {
            return prefix;
        }
        return prefix.equals("stem") ? "stem" : "head";
    }

    private static long macs(final Layer layer, final InputType output)
    {
        if (layer instanceof ConvolutionLayer && output instanceof InputType.InputTypeConvolutional)
        {
            final ConvolutionLayer conv = (ConvolutionLayer)layer;
            final InputType.InputTypeConvolutional out = (InputType.InputTypeConvolutional)output;
            return out.getHeight() * out.getWidth() * conv.getNOut() * conv.getNIn() *
                conv.getKernelSize()[0] * conv.getKernelSize()[1];
        }
        if (layer instanceof FeedForwardLayer && !(layer instanceof ConvolutionLayer) &&
            !(layer instanceof BatchNormalization))
        {
            final FeedForwardLayer dense = (FeedForwardLayer)layer;
            return dense.getNIn() * dense.getNOut();
        }
        return 0;
    }

    private static String shape(final InputType type)
    {
        if (type instanceof InputType.InputTypeConvolutional)
        {
            final InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional)type;
            return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
        }
        return type == null ? "?" : Long.toString(type.arrayElementsPerExample());
    }
}
