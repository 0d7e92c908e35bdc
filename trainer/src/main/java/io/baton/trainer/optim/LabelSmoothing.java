package io.baton.trainer.optim;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import java.util.Map;

/**
 * Swaps the multi-class cross-entropy of a graph configuration's output layers for {@link LossSmoothedMcxent}.
 * Applied to a configuration (e.g. from {@code ResNetZoo.configuration}) before the graph is built;
 * {@link #toPlainMcxent} undoes it for export.
 *
 * <p>Thread-safe (stateless); mutates the configuration it is given.
 */
public final class LabelSmoothing
{
    private LabelSmoothing()
    {
    }

    /**
     * @param conf      a graph configuration whose output layers use MCXENT.
     * @param smoothing eps in [0, 1); 0 leaves the configuration unchanged.
     * @return the number of output layers changed.
     * @throws IllegalArgumentException if smoothing is asked for and no output layer uses MCXENT.
     */
    public static int apply(final ComputationGraphConfiguration conf, final double smoothing)
    {
        if (smoothing == 0)
        {
            return 0;
        }
        int changed = 0;
        for (final Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet())
        {
            if (e.getValue() instanceof LayerVertex
                && ((LayerVertex)e.getValue()).getLayerConf().getLayer() instanceof BaseOutputLayer)
            {
                final BaseOutputLayer out = (BaseOutputLayer)((LayerVertex)e.getValue()).getLayerConf().getLayer();
                if (out.getLossFn() instanceof LossMCXENT)
                {
                    out.setLossFn(new LossSmoothedMcxent(smoothing));
                    changed++;
                }
            }
        }
        if (changed == 0)
        {
            throw new IllegalArgumentException("label smoothing " + smoothing
                + " needs an output layer with multi-class cross-entropy; the graph has none");
        }
        return changed;
    }

    /**
     * The reverse, for an exported model: every {@link LossSmoothedMcxent} of {@code conf} becomes DL4J's plain
     * {@link LossMCXENT}, so that the model loads without Baton's classes. Inference is unchanged (the output layer's
     * softmax does not depend on the loss); only training the exported model again would differ, without smoothing.
     *
     * @param conf a graph configuration; mutated.
     * @return the number of output layers changed.
     */
    public static int toPlainMcxent(final ComputationGraphConfiguration conf)
    {
        int changed = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof BaseOutputLayer out
                && out.getLossFn() instanceof LossSmoothedMcxent)
            {
                out.setLossFn(new LossMCXENT());
                changed++;
            }
        }
        return changed;
    }
}
