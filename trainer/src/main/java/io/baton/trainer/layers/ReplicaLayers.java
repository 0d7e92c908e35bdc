package io.baton.trainer.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Swaps DL4J's layers for Baton's implementations of the same layers in a replica's training graph, and back for an
 * export: {@code ConvolutionLayer} for {@link ReplicaConvolution}, {@code ActivationLayer} for
 * {@link ReplicaActivation}. Only layers of exactly DL4J's classes are swapped (not subclasses: depthwise, separable,
 * deconvolution... keep their own code). Parameter layout and count are unchanged, so parameters load across the
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
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof LayerVertex vertex)
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
        return out;
    }

    /** A copy of {@code conf} with DL4J's classes in place of Baton's layer implementations, the same settings. */
    public static ComputationGraphConfiguration toPlain(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
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
