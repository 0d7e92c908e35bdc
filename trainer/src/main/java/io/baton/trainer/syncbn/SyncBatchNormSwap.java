package io.baton.trainer.syncbn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;

import java.util.Map;

/**
 * Replaces every plain {@link BatchNormalization} of a graph configuration with a {@link SyncBatchNorm} carrying
 * the same settings: the fallback for architectures built without the zoo's BN factory hook. Parameter layout and
 * count are unchanged, so parameters of a plain-BN graph load into the swapped one.
 *
 * <p>Thread-safe (stateless); never modifies its argument.
 */
public final class SyncBatchNormSwap
{
    private SyncBatchNormSwap()
    {
    }

    /**
     * A copy of {@code conf} whose BN layers are SyncBatchNorm with the given group size (0 = world). Layers that
     * are already SyncBatchNorm get the new group size.
     */
    public static ComputationGraphConfiguration toSyncBatchNorm(
        final ComputationGraphConfiguration conf, final int groupSize)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final Map.Entry<String, GraphVertex> entry : out.getVertices().entrySet())
        {
            if (!(entry.getValue() instanceof LayerVertex))
            {
                continue;
            }
            final LayerVertex vertex = (LayerVertex)entry.getValue();
            final Layer layer = vertex.getLayerConf().getLayer();
            if (layer instanceof BatchNormalization)
            {
                vertex.getLayerConf().setLayer(SyncBatchNorm.from((BatchNormalization)layer, groupSize));
            }
        }
        return out;
    }

    /** Number of SyncBatchNorm layers in {@code conf}. */
    public static int countSyncBatchNorm(final ComputationGraphConfiguration conf)
    {
        int count = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex && ((LayerVertex)vertex).getLayerConf().getLayer() instanceof SyncBatchNorm)
            {
                count++;
            }
        }
        return count;
    }
}
