package io.baton.trainer.optim;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The weight-decay mask of a network: which ranges of the flat parameter vector are conv/FC weights (decayed,
 * LARS-adapted), which are biases and BN gamma/beta (trainable, never decayed), and which are BN running
 * statistics (not trainable). Computed once from the graph's parameter table; the flat gradient has the same
 * layout as the flat parameters in DL4J, so one layout serves both.
 *
 * <p>Classification, per DL4J variable {@code <layer>_<param>}: a slot whose updater does not divide by the
 * minibatch ({@link Layer#updaterDivideByMinibatch}) is a {@link ParamKind#RUNNING_STAT}; a slot that the layer's
 * parameter initialiser calls a weight, in a layer that is not a batch normalisation, is a {@link ParamKind#WEIGHT};
 * everything else (biases, gamma, beta) is {@link ParamKind#NO_DECAY}.
 *
 * <p>Thread-safe (immutable).
 */
public final class ParamLayout
{
    private final List<ParamSegment> segments;
    private final long length;

    /**
     * @param segments ranges that must tile [0, total) exactly, in any order.
     */
    public ParamLayout(final List<ParamSegment> segments)
    {
        final List<ParamSegment> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingLong(ParamSegment::offset));
        long next = 0;
        for (final ParamSegment s : sorted)
        {
            if (s.offset() != next)
            {
                throw new IllegalArgumentException("parameter segments must tile the flat vector: " + s.name()
                    + " starts at " + s.offset() + ", expected " + next);
            }
            next = s.end();
        }
        this.segments = List.copyOf(sorted);
        this.length = next;
    }

    /**
     * @param graph an initialised graph.
     * @return its layout, from the offsets of its parameter views within {@code graph.params()}.
     */
    public static ParamLayout of(final ComputationGraph graph)
    {
        final INDArray flat = graph.params();
        final List<ParamSegment> out = new ArrayList<>();
        for (final Layer layer : graph.getLayers())
        {
            final org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            final String layerName = conf.getLayerName();
            for (final Map.Entry<String, INDArray> e : layer.paramTable().entrySet())
            {
                final String key = e.getKey();
                final INDArray view = e.getValue();
                if (view.data().address() != flat.data().address())
                {
                    throw new IllegalStateException("parameter " + layerName + "_" + key
                        + " is not a view of the flat parameter vector");
                }
                out.add(new ParamSegment(layerName + "_" + key, view.offset() - flat.offset(), view.length(),
                    kindOf(layer, conf, key)));
            }
        }
        final ParamLayout layout = new ParamLayout(out);
        if (layout.length() != flat.length())
        {
            throw new IllegalStateException("parameter segments cover " + layout.length() + " of "
                + flat.length() + " parameters");
        }
        return layout;
    }

    private static ParamKind kindOf(
        final Layer layer, final org.deeplearning4j.nn.conf.layers.Layer conf, final String key)
    {
        if (!layer.updaterDivideByMinibatch(key))
        {
            return ParamKind.RUNNING_STAT;
        }
        if (!(conf instanceof BatchNormalization) && conf.initializer().isWeightParam(conf, key))
        {
            return ParamKind.WEIGHT;
        }
        return ParamKind.NO_DECAY;
    }

    /** Segments in flat order. */
    public List<ParamSegment> segments()
    {
        return segments;
    }

    /** Total number of parameters. */
    public long length()
    {
        return length;
    }

    /** Number of elements of the given kind. */
    public long count(final ParamKind kind)
    {
        long n = 0;
        for (final ParamSegment s : segments)
        {
            if (s.kind() == kind)
            {
                n += s.length();
            }
        }
        return n;
    }

    /** The segment named {@code <layer>_<param>}. */
    public ParamSegment segment(final String name)
    {
        for (final ParamSegment s : segments)
        {
            if (s.name().equals(name))
            {
                return s;
            }
        }
        throw new IllegalArgumentException("no parameter named " + name);
    }

    /** Per element: true where weight decay applies (the mask, for inspection and tests). */
    public boolean[] decayMask()
    {
        final boolean[] mask = new boolean[Math.toIntExact(length)];
        for (final ParamSegment s : segments)
        {
            if (s.kind() == ParamKind.WEIGHT)
            {
                java.util.Arrays.fill(mask, (int)s.offset(), (int)s.end(), true);
            }
        }
        return mask;
    }
}
