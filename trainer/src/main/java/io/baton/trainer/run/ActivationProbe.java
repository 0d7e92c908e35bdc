package io.baton.trainer.run;

import io.baton.common.collective.Communicator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds where a network's activations first go bad: max |activation| of the input and after every residual block
 * (the zoo names each block's post-add ReLU vertex {@code stage<S>_block<B>_out}), over the global batch of all
 * replicas. A collective: every rank calls it with its own slice (forward in training mode, so SyncBatchNorm layers
 * exchange statistics as they do in a step) and every rank gets the same {@link Diagnosis}.
 */
public final class ActivationProbe
{
    /** Input's entry in {@link Diagnosis#maxAbs()}. */
    public static final String INPUT = "input";

    private static final Pattern BLOCK_OUT = Pattern.compile("stage(\\d+)_block(\\d+)_out");

    private ActivationProbe()
    {
    }

    /**
     * @param graph        the replica's graph (parameters as they were before the failing update).
     * @param communicator the world communicator.
     * @param features     this replica's slice of the failing batch.
     * @param hugeLimit    activations with a larger magnitude count as huge.
     */
    public static Diagnosis probe(
        final ComputationGraph graph, final Communicator communicator, final INDArray features,
        final double hugeLimit)
    {
        final List<String> names = blockVertices(graph);
        final Map<String, INDArray> activations = graph.feedForward(features, true);
        final double[] local = new double[names.size() + 1];
        local[0] = maxAbs(features);
        for (int i = 0; i < names.size(); i++)
        {
            final INDArray a = activations.get(names.get(i));
            local[i + 1] = a == null ? 0 : maxAbs(a);
        }
        final double[] global = combine(communicator, local);
        final Map<String, Double> values = new LinkedHashMap<>();
        values.put(INPUT, global[0]);
        for (int i = 0; i < names.size(); i++)
        {
            values.put(names.get(i), global[i + 1]);
        }
        return new Diagnosis(values, hugeLimit);
    }

    /** The block output vertices of a graph in stage, then block order. */
    public static List<String> blockVertices(final ComputationGraph graph)
    {
        final List<String> names = new ArrayList<>();
        for (final String name : graph.getConfiguration().getVertices().keySet())
        {
            if (BLOCK_OUT.matcher(name).matches())
            {
                names.add(name);
            }
        }
        names.sort(Comparator.comparingInt((String n) -> group(n, 1)).thenComparingInt(n -> group(n, 2)));
        return names;
    }

    private static int group(final String name, final int group)
    {
        final Matcher m = BLOCK_OUT.matcher(name);
        if (!m.matches())
        {
            throw new IllegalArgumentException("not a block output vertex: " + name);
        }
        return Integer.parseInt(m.group(group));
    }

    /** Max |x|, NaN when any element is NaN, infinity when any is infinite. */
    static double maxAbs(final INDArray a)
    {
        final double sum = a.sumNumber().doubleValue();
        if (Double.isNaN(sum))
        {
            return Double.NaN;
        }
        final double max = a.amaxNumber().doubleValue();
        return Double.isInfinite(sum) && Double.isFinite(max) ? Double.POSITIVE_INFINITY : max;
    }

    /** Per entry, NaN if any rank saw NaN, else the maximum over ranks. */
    private static double[] combine(final Communicator communicator, final double[] local)
    {
        final ByteBuffer out = ByteBuffer.allocate(local.length * Double.BYTES);
        for (final double v : local)
        {
            out.putDouble(v);
        }
        final double[] global = local.clone();
        if (communicator.worldSize() == 1)
        {
            return global;
        }
        for (final byte[] peer : communicator.allGather(out.array()))
        {
            final ByteBuffer in = ByteBuffer.wrap(peer);
            for (int i = 0; i < global.length; i++)
            {
                final double v = in.getDouble();
                global[i] = Double.isNaN(global[i]) || Double.isNaN(v) ? Double.NaN : Math.max(global[i], v);
            }
        }
        return global;
    }

    /**
     * Max |activation| over the global batch, by place in the network.
     *
     * @param maxAbs    {@link #INPUT} first, then each block output in network order.
     * @param hugeLimit magnitudes above it count as huge.
     */
    public record Diagnosis(Map<String, Double> maxAbs, double hugeLimit)
    {
        /** The first block output that is non-finite or huge, or null when none is. */
        public String firstBadBlock()
        {
            for (final Map.Entry<String, Double> e : maxAbs.entrySet())
            {
                if (!INPUT.equals(e.getKey()) && bad(e.getValue()))
                {
                    return e.getKey();
                }
            }
            return null;
        }

        public boolean inputBad()
        {
            return bad(maxAbs.get(INPUT));
        }

        private boolean bad(final double v)
        {
            return !Double.isFinite(v) || v > hugeLimit;
        }

        /** One line for logs and the driver's error. */
        public String describe()
        {
            final StringBuilder text = new StringBuilder();
            final String block = firstBadBlock();
            text.append(block == null
                ? String.format(Locale.ROOT, "no residual block output is non-finite or above %.3g", hugeLimit)
                : String.format(Locale.ROOT, "first residual block with non-finite or huge (> %.3g) activations: %s "
                    + "(max |a| = %s)", hugeLimit, block, maxAbs.get(block)));
            if (inputBad())
            {
                text.append("; the input batch itself is non-finite or huge (max |x| = ").append(maxAbs.get(INPUT))
                    .append("): check the data");
            }
            text.append("; max |a| per place: ");
            boolean first = true;
            for (final Map.Entry<String, Double> e : maxAbs.entrySet())
            {
                text.append(first ? "" : ", ").append(e.getKey()).append('=')
                    .append(String.format(Locale.ROOT, "%.3g", e.getValue()));
                first = false;
            }
            return text.toString();
        }
    }
}
