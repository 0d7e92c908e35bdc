package io.baton.trainer.export;

import io.baton.trainer.model.ShortcutKind;
import io.baton.trainer.model.ZeroPadShortcutBuiltIns;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;

import java.util.List;
import java.util.Map;

/**
 * Classifies a named block's shortcut from the graph's wiring alone, without activation shapes: the input of the
 * block's addition with the fewest convolutions on its way back to the block input is the shortcut. Used when the
 * shapes no longer add up (a removed projection makes DL4J's shape inference fail), so the block can still be
 * named.
 *
 * <p>Thread-safe (stateless).
 */
final class ShortcutInspector
{
    private ShortcutInspector()
    {
    }

    /** The shortcut of block {@code name} (e.g. {@code stage2_block1}), or null if the block has no addition. */
    static ShortcutKind shortcutOf(final ComputationGraphConfiguration conf, final String name)
    {
        final String prefix = name + "_";
        final Map<String, GraphVertex> vertices = conf.getVertices();
        String add = null;
        for (final Map.Entry<String, GraphVertex> entry : vertices.entrySet())
        {
            if (entry.getKey().startsWith(prefix) && entry.getValue() instanceof ElementWiseVertex)
            {
                add = entry.getKey();
            }
        }
        if (add == null)
        {
            return null;
        }
        ShortcutKind best = null;
        int fewestConvs = Integer.MAX_VALUE;
        for (final String start : conf.getVertexInputs().get(add))
        {
            int convs = 0;
            boolean padded = false;
            String current = start;
            while (current.startsWith(prefix) && vertices.containsKey(current))
            {
                final GraphVertex vertex = vertices.get(current);
                if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ConvolutionLayer)
                {
                    convs++;
                }
                padded |= ZeroPadShortcutBuiltIns.isZeroPad(conf, current);
                final List<String> inputs = conf.getVertexInputs().get(current);
                if (inputs == null || inputs.isEmpty())
                {
                    break;
                }
                current = inputs.get(0);
            }
            if (convs < fewestConvs)
            {
                fewestConvs = convs;
                best = padded ? ShortcutKind.ZERO_PAD : convs > 0 ? ShortcutKind.PROJECTION : ShortcutKind.IDENTITY;
            }
        }
        return best;
    }
}
