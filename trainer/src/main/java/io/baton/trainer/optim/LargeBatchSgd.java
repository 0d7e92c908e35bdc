package io.baton.trainer.optim;

import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.backend.ReplicaParallel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * Baton's large-batch optimiser over DL4J's flat parameter and gradient vectors: SGD with classic or Nesterov
 * momentum in PyTorch's formulation, weight decay only on conv/FC weights, optional LARS and optional global
 * gradient-norm clipping. It replaces DL4J's updater (which has no classic momentum) for replica training.
 *
 * <h2>One step, from the gradient summed over the global batch of G examples and N ranks</h2>
 * <ol>
 *   <li>Running-statistic slots: {@code w -= s / N} (the mean of the ranks' deltas, DL4J's NoOp semantics).</li>
 *   <li>Trainable slots: {@code g = s / G}; {@code norm = ||g||} over all trainable slots (reported).</li>
 *   <li>Clipping (maxGradNorm &gt; 0), as {@code torch.nn.utils.clip_grad_norm_}:
 *       {@code c = maxNorm / (norm + 1e-6)}, and {@code g *= c} when {@code c < 1}.</li>
 *   <li>{@code d = g + wd w} on {@link ParamKind#WEIGHT} slots, {@code d = g} elsewhere.</li>
 *   <li>LARS (weights only, per tensor, LARC-style before momentum):
 *       {@code d *= eta ||w|| / (||g|| + wd ||w||)}, or 1 when {@code ||w||} or {@code ||g||} is zero.</li>
 *   <li>{@code v = m v + d}; {@code step = nesterov ? d + m v : v}; {@code w -= lr step}.</li>
 * </ol>
 * Element arithmetic is float (like PyTorch's float tensors); norms accumulate in double.
 *
 * <h2>Determinism</h2>
 * The update is plain Java float arithmetic in a fixed element order with no native threading, so for equal inputs
 * it produces equal bits on every replica regardless of the ND4J/OpenMP thread count of each JVM. It works on heap
 * chunks of the direct buffers, fuses the averaging and update passes where no global norm is needed, and sums
 * norms strictly in element order, so it gives the same bits as the plain two-pass loop it replaced (kept as the
 * test oracle {@code ReferenceSgd}). With two or more compute threads per replica ({@link ReplicaParallel}) the
 * tensors are shared out whole, in runs of about equal size, one run per thread: each tensor's arithmetic and norms
 * stay on one thread in element order, and the global norm adds the tensors' norms in tensor order afterwards, so
 * the bits do not depend on the thread count either.
 *
 * <h2>State</h2>
 * The momentum buffer is a flat float vector with the layout of the parameters (running-stat slots stay zero).
 * {@link #momentumBuffer()} exposes it for broadcast and checkpoints; {@link #restoreMomentum} loads one.
 *
 * <p>Threading: called from the replica's training thread, one call at a time; a call may use the replica's
 * {@link ReplicaParallel} threads.
 */
public final class LargeBatchSgd
{
    private static final double CLIP_EPS = 1e-6;
    /**
     * Floats per heap chunk: the update bulk-copies this many parameters, gradients and momenta out of the direct
     * buffers, runs plain array loops (which HotSpot vectorises, unlike absolute buffer access) and copies back.
     * Three chunks of 64 KiB stay in L2; measured ~15 % faster than 16 KiB chunks, fewer copy calls.
     */
    static final int CHUNK = 16384;

    private final ParamLayout layout;
    private final SgdSettings settings;
    private final INDArray momentum;
    private final FloatBuffer velocity;
    private final double[] gradSquares;
    private final double[] weightSquares;
    /** Per part of a split update: its weight, gradient and momentum chunks; grown to the width on first use. */
    private Chunks[] chunks = new Chunks[0];

    /**
     * @param layout   the network's parameter layout (see {@link ParamLayout#of}).
     * @param settings momentum, decay, LARS and clipping.
     */
    public LargeBatchSgd(final ParamLayout layout, final SgdSettings settings)
    {
        if (layout.length() > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("at most " + Integer.MAX_VALUE + " parameters, got "
                + layout.length());
        }
        this.layout = layout;
        this.settings = settings;
        this.momentum = Nd4j.zeros(DataType.FLOAT, layout.length());
        this.velocity = DenseFloats.view(momentum);
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
    public UpdateStats apply(
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
        final FloatBuffer w = DenseFloats.view(params);
        final FloatBuffer g = DenseFloats.view(gradientSum);
        DenseFloats.hostCurrent(momentum);
        final float batch = globalBatchSize;
        final float inverseRanks = 1.0f / worldSize;
        final float m = (float)settings.momentum();
        final float rate = (float)lr;
        final boolean clipping = settings.maxGradNorm() > 0;
        final List<ParamSegment> segments = layout.segments();
        final float wd = (float)settings.weightDecay();
        // Without clipping a tensor's update needs only its own norms, so each tensor is finished while it is in
        // cache: one fused pass, or measure-then-update for a LARS weight. Clipping needs the global norm first, so
        // then every trainable tensor is measured in this pass and updated in the second one.
        forEachSegment(segments, (k, c) ->
        {
            final ParamSegment s = segments.get(k);
            final int from = (int)s.offset();
            final int to = (int)s.end();
            if (!s.kind().trainable())
            {
                applyRunningStat(w, g, from, to, inverseRanks, c);
                return;
            }
            final boolean decayed = s.kind() == ParamKind.WEIGHT;
            final boolean lars = decayed && settings.lars();
            if (clipping || lars)
            {
                measure(w, g, from, to, batch, lars, k, c);
                if (!clipping)
                {
                    // The clip factor is exactly 1 without clipping, so the clipped gradient norm is this one.
                    final float trust = (float)larsTrust(Math.sqrt(weightSquares[k]), Math.sqrt(gradSquares[k]));
                    update(w, g, from, to, batch, 1f, wd, trust, m, rate, false, c);
                }
            }
            else
            {
                gradSquares[k] = update(w, g, from, to, batch, 1f, decayed ? wd : 0f, 1f, m, rate, true, c);
                weightSquares[k] = 0;
            }
        });
        double total = 0;
        for (int k = 0; k < segments.size(); k++)
        {
            if (segments.get(k).kind().trainable())
            {
                total += gradSquares[k];
            }
        }
        final double norm = Math.sqrt(total);
        final double clip = clipFactor(norm);
        if (clipping)
        {
            forEachSegment(segments, (k, c) ->
            {
                final ParamSegment s = segments.get(k);
                if (!s.kind().trainable())
                {
                    return;
                }
                final boolean decayed = s.kind() == ParamKind.WEIGHT;
                final float trust = decayed && settings.lars()
                    ? (float)larsTrust(Math.sqrt(weightSquares[k]), Math.sqrt(gradSquares[k]) * clip) : 1f;
                update(w, g, (int)s.offset(), (int)s.end(), batch, (float)clip, decayed ? wd : 0f, trust, m, rate,
                    false, c);
            });
        }
        DenseFloats.written(params);
        DenseFloats.written(gradientSum);
        DenseFloats.written(momentum);
        return new UpdateStats(norm, clip);
    }

    /** Work on one tensor (segment {@code k}) with a part's chunks. */
    @FunctionalInterface
    private interface SegmentWork
    {
        void run(int k, Chunks chunks);
    }

    /**
     * Runs {@code work} on every segment, in runs of whole segments of about equal length, one run per compute
     * thread ({@link ReplicaParallel}); segment order within a run. What a segment computes depends only on that
     * segment, so the split does not change any bits.
     */
    private void forEachSegment(final List<ParamSegment> segments, final SegmentWork work)
    {
        final int parts = (int)Math.max(1, Math.min(Math.min(ReplicaParallel.width(), segments.size()),
            layout.length() / CHUNK));
        if (chunks.length < parts)
        {
            final Chunks[] grown = Arrays.copyOf(chunks, parts);
            for (int p = chunks.length; p < parts; p++)
            {
                grown[p] = new Chunks();
            }
            chunks = grown;
        }
        final int[] first = new int[parts + 1];
        final long length = layout.length();
        int k = 0;
        for (int p = 1; p < parts; p++)
        {
            // the first segment that ends past p/parts of all the elements starts part p
            final long target = length * p / parts;
            while (k < segments.size() && segments.get(k).end() <= target)
            {
                k++;
            }
            first[p] = Math.max(first[p - 1], k);
        }
        first[parts] = segments.size();
        final Chunks[] mine = chunks;
        ReplicaParallel.forRange(parts, length / parts, parts, (from, to) ->
        {
            for (int p = from; p < to; p++)
            {
                for (int s = first[p]; s < first[p + 1]; s++)
                {
                    work.run(s, mine[p]);
                }
            }
        });
    }

    /** One part's heap chunks of weights, gradients and momenta. */
    private static final class Chunks
    {
        final float[] w = new float[CHUNK];
        final float[] g = new float[CHUNK];
        final float[] v = new float[CHUNK];
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

    private double clipFactor(final double norm)
    {
        if (settings.maxGradNorm() <= 0)
        {
            return 1.0;
        }
        final double c = settings.maxGradNorm() / (norm + CLIP_EPS);
        return c < 1.0 ? c : 1.0;
    }

    /** Running statistics: {@code w -= s / N}. */
    private void applyRunningStat(
        final FloatBuffer w, final FloatBuffer g, final int from, final int to, final float inverseRanks,
        final Chunks c)
    {
        final float[] wc = c.w;
        final float[] gc = c.g;
        for (int at = from; at < to; at += CHUNK)
        {
            final int n = Math.min(CHUNK, to - at);
            w.get(at, wc, 0, n);
            g.get(at, gc, 0, n);
            for (int i = 0; i < n; i++)
            {
                wc[i] = wc[i] - gc[i] * inverseRanks;
            }
            w.put(at, wc, 0, n);
        }
    }

    /**
     * The squared norms of one trainable tensor's averaged gradient (and of its weights when {@code weights}) into
     * {@link #gradSquares} / {@link #weightSquares}; reads only. Sums run in element order, in double.
     */
    private void measure(
        final FloatBuffer w, final FloatBuffer g, final int from, final int to, final float batch,
        final boolean weights, final int k, final Chunks c)
    {
        final float[] wc = c.w;
        final float[] gc = c.g;
        double sg = 0;
        double sw = 0;
        for (int at = from; at < to; at += CHUNK)
        {
            final int n = Math.min(CHUNK, to - at);
            g.get(at, gc, 0, n);
            average(gc, n, batch);
            if (weights)
            {
                w.get(at, wc, 0, n);
                // Two independent chains in one loop, so their add latencies overlap.
                for (int i = 0; i < n; i++)
                {
                    final float gi = gc[i];
                    sg += (double)gi * gi;
                    final float wi = wc[i];
                    sw += (double)wi * wi;
                }
            }
            else
            {
                sg = sumSquares(gc, n, sg);
            }
        }
        gradSquares[k] = sg;
        weightSquares[k] = weights ? sw : 0;
    }

    /**
     * The update of one trainable tensor: {@code g = s / G} (times the clip factor when it is not 1), written back;
     * then the momentum step. Returns the squared norm of the averaged gradient when {@code measure}, else 0.
     */
    private double update(
        final FloatBuffer w, final FloatBuffer g, final int from, final int to, final float batch, final float clip,
        final float wd, final float trust, final float m, final float lr, final boolean measure, final Chunks c)
    {
        final FloatBuffer v = velocity;
        final float[] wc = c.w;
        final float[] gc = c.g;
        final float[] vc = c.v;
        final boolean nesterov = settings.nesterov();
        final boolean scaled = clip != 1f;
        double sg = 0;
        for (int at = from; at < to; at += CHUNK)
        {
            final int n = Math.min(CHUNK, to - at);
            g.get(at, gc, 0, n);
            w.get(at, wc, 0, n);
            v.get(at, vc, 0, n);
            if (scaled)
            {
                for (int i = 0; i < n; i++)
                {
                    gc[i] = gc[i] / batch * clip;
                }
            }
            else
            {
                average(gc, n, batch);
            }
            if (measure)
            {
                sg = sumSquares(gc, n, sg);
            }
            // Separate loops per variant (no per-element branch) so that HotSpot vectorises them; vector lanes do
            // the same float operations as the scalar code, so the bits do not change.
            if (nesterov)
            {
                for (int i = 0; i < n; i++)
                {
                    final float wi = wc[i];
                    final float d = (gc[i] + wd * wi) * trust;
                    final float vi = m * vc[i] + d;
                    vc[i] = vi;
                    wc[i] = wi - lr * (d + m * vi);
                }
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    final float wi = wc[i];
                    final float d = (gc[i] + wd * wi) * trust;
                    final float vi = m * vc[i] + d;
                    vc[i] = vi;
                    wc[i] = wi - lr * vi;
                }
            }
            g.put(at, gc, 0, n);
            w.put(at, wc, 0, n);
            v.put(at, vc, 0, n);
        }
        return sg;
    }

    /** {@code a[i] /= batch} for the first {@code n} elements. */
    private static void average(final float[] a, final int n, final float batch)
    {
        for (int i = 0; i < n; i++)
        {
            a[i] = a[i] / batch;
        }
    }

    /** {@code sum + a[0]^2 + ... + a[n-1]^2}, added in that order in double (the order fixes the bits). */
    private static double sumSquares(final float[] a, final int n, final double sum)
    {
        double s = sum;
        for (int i = 0; i < n; i++)
        {
            final float x = a[i];
            s += (double)x * x;
        }
        return s;
    }

    /**
     * What one step measured.
     *
     * @param gradientNorm global L2 norm of the averaged gradient over trainable slots, before clipping.
     * @param clipFactor   factor the gradient was multiplied by (1 when not clipped).
     */
    public record UpdateStats(double gradientNorm, double clipFactor)
    {
    }
}
