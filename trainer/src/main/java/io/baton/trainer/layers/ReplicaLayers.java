package io.baton.trainer.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Swaps DL4J's layers for Baton's implementations of the same layers in a replica's training graph, and back for an
 * export: {@code ConvolutionLayer} for {@link ReplicaConvolution}, {@code ActivationLayer} for
 * {@link ReplicaActivation}, {@code ElementWiseVertex(Add)} for {@link ReplicaAdd}; and folds each plain ReLU into the
 * SyncBatchNorm or residual add before it where that is exact ({@link ReluFusible}: same bits; the ReLU's forward
 * pass is gone, its gradient stays with the ReLU layer). Only layers and vertices of exactly DL4J's classes are
 * swapped (not subclasses: depthwise, separable, deconvolution... keep their own code). Parameter layout and count are unchanged, so parameters load across the
 * swap as they are.
 *
 * <p>Thread-safe (stateless); never modifies its argument.
 */
public final class ReplicaLayers
{
    private ReplicaLayers()
    {
    }

    /** A copy of {@code conf} with Baton's layer implementations, convolutions on DL4J's helper. */
    public static ComputationGraphConfiguration toReplica(final ComputationGraphConfiguration conf)
    {
        return toReplica(conf, ReplicaConvolution.ENGINE_DL4J);
    }

    /**
     * A copy of {@code conf} with Baton's layer implementations, convolutions on {@code convEngine}
     * ({@code model.conv-engine}: {@link ReplicaConvolution#ENGINE_ONEDNN} or {@link ReplicaConvolution#ENGINE_DL4J}).
     */
    public static ComputationGraphConfiguration toReplica(final ComputationGraphConfiguration conf,
        final String convEngine)
    {
        return toReplica(conf, convEngine, true);
    }

    /**
     * As {@link #toReplica(ComputationGraphConfiguration, String)}; with {@code fuseRelus} false, no ReLU is folded
     * into its producer (for benchmarks and tests that compare the two).
     */
    public static ComputationGraphConfiguration toReplica(final ComputationGraphConfiguration conf,
        final String convEngine, final boolean fuseRelus)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue().getClass() == ElementWiseVertex.class
                && ((ElementWiseVertex)entry.getValue()).getOp() == ElementWiseVertex.Op.Add)
            {
                entry.setValue(new ReplicaAdd());
            }
            else if (entry.getValue() instanceof LayerVertex vertex)
            {
                final Layer layer = vertex.getLayerConf().getLayer();
                if (layer.getClass() == ConvolutionLayer.class)
                {
                    vertex.getLayerConf().setLayer(ReplicaConvolution.from((ConvolutionLayer)layer, convEngine));
                }
                else if (layer.getClass() == ActivationLayer.class)
                {
                    vertex.getLayerConf().setLayer(ReplicaActivation.from((ActivationLayer)layer));
                }
            }
        }
        if (fuseRelus)
        {
            fuseRelus(out);
        }
        return out;
    }

    /**
     * Folds each plain ReLU layer into its producer when the producer can apply it ({@link ReluFusible}: Baton's
     * SyncBatchNorm and residual add), the ReLU is the producer's only consumer and the producer is no network output.
     */
    private static void fuseRelus(final ComputationGraphConfiguration conf)
    {
        final Map<String, List<String>> consumers = new HashMap<>();
        for (final Map.Entry<String, List<String>> entry : conf.getVertexInputs().entrySet())
        {
            for (final String input : entry.getValue())
            {
                consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(entry.getKey());
            }
        }
        for (final Map.Entry<String, GraphVertex> entry : conf.getVertices().entrySet())
        {
            final ReluFusible producer = fusible(entry.getValue());
            final List<String> users = consumers.getOrDefault(entry.getKey(), List.of());
            if (producer == null || users.size() != 1 || conf.getNetworkOutputs().contains(entry.getKey()))
            {
                continue;
            }
            if (conf.getVertices().get(users.get(0)) instanceof LayerVertex relu && relu.getPreProcessor() == null
                && relu.getLayerConf().getLayer() instanceof ReplicaActivation activation
                && ReplicaActivationLayer.isPlainRelu(activation))
            {
                producer.setFusedRelu(true);
                activation.setInputRectified(true);
            }
        }
    }

    private static ReluFusible fusible(final GraphVertex vertex)
    {
        if (vertex instanceof ReplicaAdd add)
        {
            return add;
        }
        return vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ReluFusible fusible
            ? fusible : null;
    }

    /** Number of ReLU layers folded into their producers in {@code conf} ({@link ReluFusible}). */
    public static int countFusedRelus(final ComputationGraphConfiguration conf)
    {
        int count = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ReplicaActivation a
                && a.isInputRectified())
            {
                count++;
            }
        }
        return count;
    }

    /** A copy of {@code conf} with DL4J's classes in place of Baton's layer implementations, the same settings. */
    public static ComputationGraphConfiguration toPlain(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof ReplicaAdd)
            {
                entry.setValue(new ElementWiseVertex(ElementWiseVertex.Op.Add));
                continue;
            }
            if (!(entry.getValue() instanceof LayerVertex vertex))
            {
                continue;
            }
            if (vertex.getLayerConf().getLayer() instanceof ReplicaConvolution replica)
            {
                final ConvolutionLayer plain = new ConvolutionLayer.Builder().build();
                LayerConfs.copyFields(ConvolutionLayer.class, replica.clone(), plain,
                    "the plain ConvolutionLayer of layer '" + replica.getLayerName() + "'");
                vertex.getLayerConf().setLayer(plain);
            }
            else if (vertex.getLayerConf().getLayer() instanceof ReplicaActivation replica)
            {
                final ActivationLayer plain = new ActivationLayer.Builder().build();
                LayerConfs.copyFields(ActivationLayer.class, replica.clone(), plain,
                    "the plain ActivationLayer of layer '" + replica.getLayerName() + "'");
                vertex.getLayerConf().setLayer(plain);
            }
        }
        return out;
    }

    /**
     * What runs the convolutions of an initialised graph, counted by implementation: "baton-onednn" (Baton's
     * {@link OneDnnConvolution}), the simple name of DL4J's helper (e.g. "MKLDNNConvHelper"), or "dl4j-builtin"; for
     * logs and benchmarks.
     */
    public static SortedMap<String, Integer> convolutionEngines(final ComputationGraph graph)
    {
        final SortedMap<String, Integer> out = new TreeMap<>();
        for (final org.deeplearning4j.nn.api.Layer layer : graph.getLayers())
        {
            if (layer instanceof ReplicaConvolutionLayer conv)
            {
                out.merge(conv.helper() instanceof OneDnnConvHelper ? "baton-onednn"
                    : conv.helper() == null ? "dl4j-builtin" : conv.helper().getClass().getSimpleName(), 1,
                    Integer::sum);
            }
            else if (layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer)
            {
                out.merge("dl4j-layer", 1, Integer::sum);
            }
        }
        return out;
    }

    /** "available", or why Baton's oneDNN convolution cannot run in this JVM; for logs and benchmarks. */
    public static String oneDnnStatus()
    {
        return OneDnn.available() ? "available" : OneDnn.unavailableReason();
    }

    /** Number of layers of Baton's implementations in {@code conf}. */
    public static int countReplicaLayers(final ComputationGraphConfiguration conf)
    {
        int count = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer && (layer.getLayerConf().getLayer() instanceof ReplicaConvolution
                || layer.getLayerConf().getLayer() instanceof ReplicaActivation))
            {
                count++;
            }
        }
        return count;
    }
}
