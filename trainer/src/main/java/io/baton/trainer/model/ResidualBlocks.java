package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recovers the list of residual blocks from a graph configuration: vertices are grouped by their
 * {@code stage<S>_block<B>_} prefix, shapes come from DL4J's activation types, and the shortcut is classified by
 * walking each input of the block's addition back to the block input (the path with fewer convolutions is the
 * shortcut; a path through an option-A vertex, Baton's or its DL4J form in an exported model
 * ({@link ZeroPadShortcutBuiltIns}), is a zero-pad one). Works on any graph that follows the zoo's naming, including
 * one read back from JSON.
 */
public final class ResidualBlocks
{
    private static final Pattern BLOCK = Pattern.compile("^stage(\\d+)_block(\\d+)_.*");

    private ResidualBlocks()
    {
    }

    /**
     * @param conf   the graph configuration.
     * @param inputs the network's input types.
     * @return the blocks in stage, then block order.
     */
    public static List<ResidualBlock> describe(final ComputationGraphConfiguration conf, final InputType... inputs)
    {
        final Map<String, InputType> types = activationTypes(conf, inputs);
        final Map<String, List<String>> vertexInputs = conf.getVertexInputs();
        final Map<Long, Set<String>> groups = new TreeMap<>();
        for (final String vertex : conf.getVertices().keySet())
        {
            final Matcher m = BLOCK.matcher(vertex);
            if (m.matches())
            {
                final long key = Long.parseLong(m.group(1)) * 1_000_000L + Long.parseLong(m.group(2));
                groups.computeIfAbsent(key, k -> new HashSet<>()).add(vertex);
            }
        }
        final Map<String, List<String>> consumers = consumers(vertexInputs);
        final List<ResidualBlock> blocks = new ArrayList<>();
        for (final Map.Entry<Long, Set<String>> group : groups.entrySet())
        {
            blocks.add(describeBlock(conf, types, consumers, group.getKey(), group.getValue()));
        }
        blocks.sort(Comparator.comparingInt(ResidualBlock::stage).thenComparingInt(ResidualBlock::index));
        return blocks;
    }

    static Map<String, InputType> activationTypes(final ComputationGraphConfiguration conf, final InputType... inputs)
    {
        final Map<String, InputType> types = new HashMap<>(conf.getLayerActivationTypes(inputs));
        for (int i = 0; i < inputs.length; i++)
        {
            types.putIfAbsent(conf.getNetworkInputs().get(i), inputs[i]);
        }
        return types;
    }

    private static ResidualBlock describeBlock(
        final ComputationGraphConfiguration conf,
        final Map<String, InputType> types,
        final Map<String, List<String>> consumers,
        final long key,
        final Set<String> members)
    {
        final int stage = (int)(key / 1_000_000L);
        final int index = (int)(key % 1_000_000L);
        final String name = "stage" + stage + "_block" + index;
        final Map<String, List<String>> vertexInputs = conf.getVertexInputs();
        final Set<String> entries = new HashSet<>();
        String output = null;
        String add = null;
        for (final String vertex : members)
        {
            for (final String in : vertexInputs.getOrDefault(vertex, List.of()))
            {
                if (!members.contains(in))
                {
                    entries.add(in);
                }
            }
            final List<String> users = consumers.getOrDefault(vertex, List.of());
            if (users.isEmpty() || users.stream().anyMatch(u -> !members.contains(u)))
            {
                output = vertex;
            }
            if (conf.getVertices().get(vertex) instanceof ElementWiseVertex)
            {
                add = vertex;
            }
        }
        if (entries.size() != 1 || output == null)
        {
            throw new IllegalStateException("block " + name + " must have one input and one output, inputs=" +
                entries + ", output=" + output);
        }
        final String input = entries.iterator().next();
        final InputType.InputTypeConvolutional in = (InputType.InputTypeConvolutional)types.get(input);
        final InputType.InputTypeConvolutional out = (InputType.InputTypeConvolutional)types.get(output);
        final int stride = (int)((in.getHeight() + out.getHeight() - 1) / out.getHeight());
        final ShortcutKind shortcut = add == null ? ShortcutKind.NONE : shortcutKind(conf, members, add);
        return new ResidualBlock(name, stage, index, input, output, in.getChannels(), out.getChannels(), stride,
            shortcut);
    }

    private static ShortcutKind shortcutKind(
        final ComputationGraphConfiguration conf, final Set<String> members, final String add)
    {
        ShortcutKind best = null;
        int fewestConvs = Integer.MAX_VALUE;
        for (final String start : conf.getVertexInputs().get(add))
        {
            int convs = 0;
            boolean padded = false;
            String current = start;
            while (members.contains(current))
            {
                final GraphVertex vertex = conf.getVertices().get(current);
                if (vertex instanceof LayerVertex &&
                    ((LayerVertex)vertex).getLayerConf().getLayer() instanceof ConvolutionLayer)
                {
                    convs++;
                }
                padded |= ZeroPadShortcutBuiltIns.isZeroPad(conf, current);
                current = conf.getVertexInputs().get(current).get(0);
            }
            if (convs < fewestConvs)
            {
                fewestConvs = convs;
                best = padded ? ShortcutKind.ZERO_PAD : convs > 0 ? ShortcutKind.PROJECTION : ShortcutKind.IDENTITY;
            }
        }
        return best;
    }

    private static Map<String, List<String>> consumers(final Map<String, List<String>> vertexInputs)
    {
        final Map<String, List<String>> consumers = new HashMap<>();
        for (final Map.Entry<String, List<String>> e : vertexInputs.entrySet())
        {
            for (final String in : e.getValue())
            {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        return consumers;
    }
}
