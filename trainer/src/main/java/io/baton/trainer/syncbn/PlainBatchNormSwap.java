package io.baton.trainer.syncbn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;

import java.util.Map;

/**
 * The reverse of {@link SyncBatchNormSwap}: replaces every {@link SyncBatchNorm} of a graph configuration with a
 * plain DL4J {@link BatchNormalization} carrying the same settings. Inference uses running statistics and never
 * communicates, so an exported model needs neither Baton's layer class nor a communicator. Parameter layout and
 * count are unchanged, so the training graph's flat parameters load into the swapped one as they are.
 *
 * <p>Thread-safe (stateless); never modifies its argument.
 */
public final class PlainBatchNormSwap
{
    private PlainBatchNormSwap()
    {
    }

    /** A copy of {@code conf} without SyncBatchNorm layers. */
    public static ComputationGraphConfiguration toPlainBatchNorm(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (entry.getValue() instanceof LayerVertex vertex)
            {
                final Layer layer = vertex.getLayerConf().getLayer();
                if (layer instanceof SyncBatchNorm sync)
                {
                    vertex.getLayerConf().setLayer(plain(sync));
                }
            }
        }
        return out;
    }

    private static BatchNormalization plain(final SyncBatchNorm sync)
    {
        final BatchNormalization out = new BatchNormalization();
        SyncBatchNorm.copyFields(sync.clone(), out, "the plain BatchNormalization of layer '" + sync.getLayerName()
            + "'");
        return out;
    }
}
