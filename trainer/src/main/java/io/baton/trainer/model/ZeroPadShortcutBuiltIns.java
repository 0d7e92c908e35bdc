package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The option-A shortcut ({@link ZeroPadShortcutVertex}) written with DL4J's own vertices, so that a graph using it
 * loads where Baton's classes are absent (an exported model). Vertex {@code N} with C input channels becomes:
 * <ul>
 *   <li>{@code N_sample}: a 1x1 MAX {@link SubsamplingLayer} with stride s in Truncate mode: it keeps
 *   {@code x[:, :, ::s, ::s]}, ceil(H / s) rows as {@link ZeroPadShortcutVertex#subsampled} does, odd sizes
 *   included (the maximum of one value is that value);</li>
 *   <li>{@code N_zeros<j>}: {@link ScaleVertex}(0) of the sample, C zero channels each, the last one cut by a
 *   {@link SubsetVertex} {@code N_zeros<j>_subset} when fewer are missing;</li>
 *   <li>{@code N}: a {@link MergeVertex} concatenating the sample and the zeros along channels (none when the
 *   channels do not grow: then {@code N} is the sample itself).</li>
 * </ul>
 * The output equals the vertex's exactly for finite inputs (0 * x is a zero; only its sign may differ, which a
 * following addition erases), and no parameter is added: the graph's parameters are the same by name.
 *
 * <p>Thread-safe (stateless); never modifies its argument.
 */
public final class ZeroPadShortcutBuiltIns
{
    private ZeroPadShortcutBuiltIns()
    {
    }

    /**
     * A copy of {@code conf} in which every {@link ZeroPadShortcutVertex} is replaced by DL4J's vertices (above).
     *
     * @param input the network's input types, for the channels entering each shortcut.
     */
    public static ComputationGraphConfiguration toBuiltIns(final ComputationGraphConfiguration conf,
        final InputType... input)
    {
        final ComputationGraphConfiguration out = conf.clone();
        final List<String> padded = new ArrayList<>();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof ZeroPadShortcutVertex)
            {
                padded.add(entry.getKey());
            }
        }
        if (padded.isEmpty())
        {
            return out;
        }
        final Map<String, InputType> types = ResidualBlocks.activationTypes(conf, input);
        for (final String name : padded)
        {
            final ZeroPadShortcutVertex vertex = (ZeroPadShortcutVertex)out.getVertices().get(name);
            final String from = out.getVertexInputs().get(name).get(0);
            final long channels = ((InputType.InputTypeConvolutional)types.get(from)).getChannels();
            replace(out, name, from, vertex.stride(), channels, vertex.outChannels());
        }
        // DL4J caches the topological order; it is computed again for the new vertices.
        out.setTopologicalOrder(null);
        out.setTopologicalOrderStr(null);
        return out;
    }

    /**
     * True if vertex {@code name} of {@code conf} is an option-A shortcut: a {@link ZeroPadShortcutVertex}, or its
     * built-in form (the merge of a 1x1 subsample with zeros of it, or the bare 1x1 subsample).
     */
    public static boolean isZeroPad(final ComputationGraphConfiguration conf, final String name)
    {
        final GraphVertex vertex = conf.getVertices().get(name);
        if (vertex instanceof ZeroPadShortcutVertex || isSample(vertex))
        {
            return true;
        }
        if (!(vertex instanceof MergeVertex))
        {
            return false;
        }
        final List<String> inputs = conf.getVertexInputs().get(name);
        if (inputs == null || inputs.size() < 2 || !isSample(conf.getVertices().get(inputs.get(0))))
        {
            return false;
        }
        for (final String zeros : inputs.subList(1, inputs.size()))
        {
            if (!isZerosOf(conf, zeros, inputs.get(0)))
            {
                return false;
            }
        }
        return true;
    }

    private static void replace(final ComputationGraphConfiguration conf, final String name, final String from,
        final int stride, final long channels, final long outChannels)
    {
        final Map<String, GraphVertex> vertices = conf.getVertices();
        final Map<String, List<String>> inputs = conf.getVertexInputs();
        final String sample = outChannels == channels ? name : name + "_sample";
        vertices.put(sample, sampleLayer(sample, stride, anyLayer(conf)));
        inputs.put(sample, List.of(from));
        if (sample.equals(name))
        {
            return;
        }
        final List<String> merged = new ArrayList<>(List.of(sample));
        for (long missing = outChannels - channels, j = 1; missing > 0; missing -= channels, j++)
        {
            final String zeros = name + "_zeros" + j;
            vertices.put(zeros, new ScaleVertex(0.0));
            inputs.put(zeros, List.of(sample));
            if (missing >= channels)
            {
                merged.add(zeros);
            }
            else
            {
                final String subset = zeros + "_subset";
                vertices.put(subset, new SubsetVertex(0, (int)missing - 1));
                inputs.put(subset, List.of(zeros));
                merged.add(subset);
            }
        }
        vertices.put(name, new MergeVertex());
        inputs.put(name, merged);
    }

    private static LayerVertex sampleLayer(final String name, final int stride, final NeuralNetConfiguration like)
    {
        final SubsamplingLayer pool = new SubsamplingLayer.Builder(PoolingType.MAX)
            .kernelSize(1, 1)
            .stride(stride, stride)
            .padding(0, 0)
            .convolutionMode(ConvolutionMode.Truncate)
            .build();
        pool.setLayerName(name);
        final NeuralNetConfiguration.Builder builder = new NeuralNetConfiguration.Builder().layer(pool);
        if (like != null)
        {
            builder.seed(like.getSeed()).dataType(like.getDataType());
        }
        return new LayerVertex(builder.build(), null);
    }

    private static NeuralNetConfiguration anyLayer(final ComputationGraphConfiguration conf)
    {
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer)
            {
                return layer.getLayerConf();
            }
        }
        return null;
    }

    private static boolean isSample(final GraphVertex vertex)
    {
        return vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof SubsamplingLayer pool
            && pool.getClass() == SubsamplingLayer.class && pool.getPoolingType() == PoolingType.MAX
            && Arrays.equals(pool.getKernelSize(), new int[]{1, 1})
            && Arrays.equals(pool.getPadding(), new int[]{0, 0});
    }

    /** A ScaleVertex(0) of {@code sample}, or a leading SubsetVertex of one. */
    private static boolean isZerosOf(final ComputationGraphConfiguration conf, final String name, final String sample)
    {
        final GraphVertex vertex = conf.getVertices().get(name);
        final List<String> inputs = conf.getVertexInputs().get(name);
        if (inputs == null || inputs.size() != 1)
        {
            return false;
        }
        if (vertex instanceof SubsetVertex subset)
        {
            return subset.getFrom() == 0 && isZerosOf(conf, inputs.get(0), sample);
        }
        return vertex instanceof ScaleVertex scale && scale.getScaleFactor() == 0.0 && inputs.get(0).equals(sample);
    }
}
