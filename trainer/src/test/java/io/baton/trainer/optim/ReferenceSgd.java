package io.baton.trainer.optim;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The update of {@link LargeBatchSgd} as it was before the chunked rewrite (commit 341fe2b): two passes of absolute
 * {@code get(i)}/{@code put(i)} on direct {@link FloatBuffer} views, copied verbatim. It is the bit-exact oracle of
 * {@code LargeBatchSgdBitIdentityTest} and the "before" of {@code UpdaterBench}; keep its loops unchanged.
 *
 * <p>Threading: confined to one thread.
 */
public final class ReferenceSgd
{
    private static final double CLIP_EPS = 1e-6;

    private final ParamLayout layout;
    private final SgdSettings settings;
    private final INDArray momentum;
    private final FloatBuffer velocity;
    private final double[] gradSquares;
    private final double[] weightSquares;

    /**
     * @param layout   the network's parameter layout (see {@link ParamLayout#of}).
     * @param settings momentum, decay, LARS and clipping.
     */
    public ReferenceSgd(final ParamLayout layout, final SgdSettings settings)
    {
        if (layout.length() > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("at most " + Integer.MAX_VALUE + " parameters, got "
                + layout.length());
        }
        this.layout = layout;
        this.settings = settings;
        this.momentum = Nd4j.zeros(DataType.FLOAT, layout.length());
        this.velocity = floats(momentum);
        this.gradSquares = new double[layout.segments().size()];
        this.weightSquares = new double[layout.segments().size()];
    }

    public ParamLayout layout()
    {
        return layout;
    }

    public SgdSettings settings()
    {
        return settings;
    }

    /** The momentum buffer itself (a dense float vector of {@code layout().length()} elements), not a copy. */
    public INDArray momentumBuffer()
    {
        return momentum;
    }

    /** Replaces the momentum buffer's contents, e.g. from a checkpoint; the length must match. */
    public void restoreMomentum(final INDArray saved)
    {
        if (saved.length() != momentum.length())
        {
            throw new IllegalArgumentException("momentum buffer has " + momentum.length() + " elements, saved state "
                + saved.length());
        }
        momentum.assign(saved.reshape(momentum.shape()).castTo(DataType.FLOAT));
    }

    /**
     * Applies one step in place.
     *
     * @param params          the flat FLOAT parameter vector (dense, c-order view such as {@code graph.params()}).
     * @param gradientSum     the flat gradient with the same layout, summed over the global batch and the ranks;
     *                        overwritten (trainable slots end up holding the averaged, clipped gradient).
     * @param globalBatchSize G, examples in the global batch.
     * @param worldSize       N, ranks whose running-stat deltas were summed.
     * @param lr              learning rate of this step.
     * @return the global gradient L2 norm before clipping and the clip factor applied.
     */
    public LargeBatchSgd.UpdateStats apply(
        final INDArray params, final INDArray gradientSum, final int globalBatchSize, final int worldSize,
        final double lr)
    {
        if (params.length() != layout.length() || gradientSum.length() != layout.length())
        {
            throw new IllegalArgumentException("expected " + layout.length() + " parameters and gradients, got "
                + params.length() + " and " + gradientSum.length());
        }
        if (globalBatchSize <= 0 || worldSize <= 0)
        {
            throw new IllegalArgumentException("globalBatchSize and worldSize must be > 0: globalBatchSize="
                + globalBatchSize + ", worldSize=" + worldSize);
        }
        final FloatBuffer w = floats(params);
        final FloatBuffer g = floats(gradientSum);
        final double norm = Math.sqrt(averageAndMeasure(w, g, globalBatchSize, worldSize));
        final double clip = clipFactor(norm);
        final float m = (float)settings.momentum();
        final float rate = (float)lr;
        final java.util.List<ParamSegment> segments = layout.segments();
        for (int k = 0; k < segments.size(); k++)
        {
            final ParamSegment s = segments.get(k);
            if (!s.kind().trainable())
            {
                continue;
            }
            final boolean decayed = s.kind() == ParamKind.WEIGHT;
            final float wd = decayed ? (float)settings.weightDecay() : 0f;
            final float trust = decayed && settings.lars()
                ? (float)larsTrust(Math.sqrt(weightSquares[k]), Math.sqrt(gradSquares[k]) * clip) : 1f;
            update(w, g, (int)s.offset(), (int)s.end(), (float)clip, wd, trust, m, rate);
        }
        return new LargeBatchSgd.UpdateStats(norm, clip);
    }

    /** The LARS trust ratio of a tensor with weight norm {@code wNorm} and (clipped) gradient norm {@code gNorm}. */
    public double larsTrust(final double wNorm, final double gNorm)
    {
        if (wNorm == 0 || gNorm == 0)
        {
            return 1.0;
        }
        return settings.larsTrustCoefficient() * wNorm / (gNorm + settings.weightDecay() * wNorm);
    }

    /** Pass 1: running stats applied, trainable gradients divided by G; returns the squared global norm. */
    private double averageAndMeasure(final FloatBuffer w, final FloatBuffer g, final int globalBatch, final int n)
    {
        final float batch = globalBatch;
        final float inverseRanks = 1.0f / n;
        final boolean lars = settings.lars();
        double total = 0;
        final java.util.List<ParamSegment> segments = layout.segments();
        for (int k = 0; k < segments.size(); k++)
        {
            final ParamSegment s = segments.get(k);
            final int from = (int)s.offset();
            final int to = (int)s.end();
            if (!s.kind().trainable())
            {
                for (int i = from; i < to; i++)
                {
                    w.put(i, w.get(i) - g.get(i) * inverseRanks);
                }
                continue;
            }
            double sg = 0;
            double sw = 0;
            final boolean measureWeights = lars && s.kind() == ParamKind.WEIGHT;
            for (int i = from; i < to; i++)
            {
                final float gi = g.get(i) / batch;
                g.put(i, gi);
                sg += (double)gi * gi;
                if (measureWeights)
                {
                    final float wi = w.get(i);
                    sw += (double)wi * wi;
                }
            }
            gradSquares[k] = sg;
            weightSquares[k] = sw;
            total += sg;
        }
        return total;
    }

    private double clipFactor(final double norm)
    {
        if (settings.maxGradNorm() <= 0)
        {
            return 1.0;
        }
        final double c = settings.maxGradNorm() / (norm + CLIP_EPS);
        return c < 1.0 ? c : 1.0;
    }

    /** Pass 2 over one trainable tensor. */
    private void update(
        final FloatBuffer w, final FloatBuffer g, final int from, final int to, final float clip, final float wd,
        final float trust, final float m, final float lr)
    {
        final FloatBuffer v = velocity;
        final boolean nesterov = settings.nesterov();
        final boolean scaled = clip != 1f;
        for (int i = from; i < to; i++)
        {
            final float wi = w.get(i);
            float gi = g.get(i);
            if (scaled)
            {
                gi *= clip;
                g.put(i, gi);
            }
            final float d = (gi + wd * wi) * trust;
            final float vi = m * v.get(i) + d;
            v.put(i, vi);
            final float step = nesterov ? d + m * vi : vi;
            w.put(i, wi - lr * step);
        }
    }

    private static FloatBuffer floats(final INDArray a)
    {
        if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || a.elementWiseStride() != 1)
        {
            throw new IllegalArgumentException("need a dense c-order FLOAT vector, got " + a.dataType() + " order "
                + a.ordering() + " stride " + a.elementWiseStride());
        }
        final FloatBuffer all = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        all.position(Math.toIntExact(a.offset()));
        all.limit(Math.toIntExact(a.offset() + a.length()));
        return all.slice();
    }

}
