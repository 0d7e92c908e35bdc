package io.baton.trainer.layers;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

import java.util.Map;

/**
 * Swaps DL4J's 2-D convolution for {@link ReplicaConvolution} in a replica's training graph and back for an export.
 * Only layers of exactly DL4J's {@code ConvolutionLayer} class are swapped (not its subclasses: depthwise,
 * separable, deconvolution... keep their own code). Parameter layout and count are unchanged, so parameters load
 * across the swap as they are.
 *
 * <p>Thread-safe (stateless); never modifies its argument.
 */
public final class ConvolutionSwap
{
    private ConvolutionSwap()
    {
    }

    /** A copy of {@code conf} whose plain convolutions are {@link ReplicaConvolution}s. */
    public static ComputationGraphConfiguration toReplica(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof LayerVertex vertex)
            {
                final Layer layer = vertex.getLayerConf().getLayer();
                if (layer.getClass() == ConvolutionLayer.class)
                {
                    vertex.getLayerConf().setLayer(ReplicaConvolution.from((ConvolutionLayer)layer));
                }
            }
        }
        return out;
    }

    /** A copy of {@code conf} without {@link ReplicaConvolution}s: DL4J's class, the same settings. */
    public static ComputationGraphConfiguration toPlain(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof LayerVertex vertex
                && vertex.getLayerConf().getLayer() instanceof ReplicaConvolution replica)
            {
                final ConvolutionLayer plain = new ConvolutionLayer.Builder().build();
                ReplicaConvolution.copyFields(replica.clone(), plain, "the plain ConvolutionLayer of layer '"
                    + replica.getLayerName() + "'");
                vertex.getLayerConf().setLayer(plain);
            }
        }
        return out;
    }

    /** Number of {@link ReplicaConvolution} layers in {@code conf}. */
    public static int countReplicaConvolutions(final ComputationGraphConfiguration conf)
    {
        int count = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ReplicaConvolution)
            {
                count++;
            }
        }
        return count;
    }
}
