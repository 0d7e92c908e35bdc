package io.baton.trainer.syncbn;

import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.backend.ReplicaParallel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * SyncBatchNorm's per-channel work on dense c-order FLOAT arrays {@code [N, C]} or {@code [N, C, H, W]} in one or
 * two passes each, instead of a chain of ND4J broadcast and reduction ops (each its own pass, the sums over the
 * non-contiguous dimensions {0, 2, 3} through TADs, and double copies of the whole activation): measured 1.1-2x
 * slower than DL4J's oneDNN BN before (docs/BENCHMARKS.md). Each {@code (n, c)} plane of {@code H x W} floats is
 * contiguous; it is read in bulk into a scratch array and processed in a loop the JIT can unroll.
 *
 * <p>The element-wise arithmetic is the same float operations, in the same order, as the ND4J op chain it replaces
 * ({@code (x - mean) / std * gamma + beta}; {@code ((dy - xhat * b) - a) * scale}); the sums are accumulated in
 * double, in a fixed order (so identical inputs give identical sums on every rank and every run).
 *
 * <p>The normalised input is never stored: backward computes it again from the layer's input (one read instead of a
 * write in forward and a read in backward, and no activation-sized buffer per layer). With a fused ReLU (a ReLU
 * layer alone after the BN, {@link SyncBatchNorm#isFusedRelu()}) the forward pass applies it, so that layer passes
 * its input on; its derivative stays with that layer's backward pass.
 *
 * <p>Threading: stateless; the caller owns the arrays. Each kernel splits its channels over the replica's compute
 * threads ({@link ReplicaParallel}); a channel's sums are taken in the same order whichever thread takes them, so
 * the results do not depend on the thread count.
 */
final class FusedBnKernels
{
    private static final int NEGATIVE_ZERO_BITS = 0x80000000;

    private FusedBnKernels()
    {
    }

    /** Whether the kernels can run on {@code a} without a copy. */
    static boolean applicable(final INDArray a)
    {
        return DenseFloats.isDense(a) && (a.rank() == 2 || a.rank() == 4);
    }

    /** {@code a} itself when {@link #applicable}, otherwise a dense c-order FLOAT copy. */
    static INDArray dense(final INDArray a)
    {
        if (applicable(a))
        {
            return a;
        }
        final INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        return applicable(f) ? f : f.dup('c');
    }

    /**
     * Adds {@code sum(x - shift[c])} into {@code out[c]} and {@code sum((x - shift[c])^2)} into {@code out[C + c]}
     * (double arithmetic), over every dimension but 1.
     */
    static void shiftedSums(final INDArray x, final double[] shift, final double[] out)
    {
        final Planes p = new Planes(x);
        final FloatBuffer xb = DenseFloats.view(x);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final float[] row = new float[p.size];
            for (int n = 0; n < p.count; n++)
            {
                for (int c = from; c < to; c++)
                {
                    xb.get(p.offset(n, c), row, 0, p.size);
                    final double k = shift[c];
                    double s0 = 0;
                    double s1 = 0;
                    double q0 = 0;
                    double q1 = 0;
                    int i = 0;
                    for (; i + 1 < p.size; i += 2)
                    {
                        final double d0 = row[i] - k;
                        final double d1 = row[i + 1] - k;
                        s0 += d0;
                        s1 += d1;
                        q0 += d0 * d0;
                        q1 += d1 * d1;
                    }
                    if (i < p.size)
                    {
                        final double d0 = row[i] - k;
                        s0 += d0;
                        q0 += d0 * d0;
                    }
                    out[c] += s0 + s1;
                    out[p.channels + c] += q0 + q1;
                }
            }
        });
    }

    /**
     * {@code out = xHat * gamma[c] + beta[c]} with {@code xHat = (x - mean[c]) / std[c]} (float arithmetic), then,
     * when {@link Affine#relu}, ND4J's ReLU ({@code v < 0 ? 0 : v}). The normalised input is not stored: the
     * backward kernels compute it again from {@code x} with the same float operations, so they see the same bits.
     */
    static void normalize(final INDArray x, final Affine k, final INDArray out)
    {
        final Planes p = new Planes(x);
        final FloatBuffer xb = DenseFloats.view(x);
        final FloatBuffer ob = DenseFloats.view(out);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final float[] row = new float[p.size];
            for (int n = 0; n < p.count; n++)
            {
                for (int c = from; c < to; c++)
                {
                    final int offset = p.offset(n, c);
                    xb.get(offset, row, 0, p.size);
                    final float m = k.mean[c];
                    final float s = k.std[c];
                    final float g = k.gamma[c];
                    final float b = k.beta[c];
                    if (k.relu && Float.floatToRawIntBits(b) != NEGATIVE_ZERO_BITS)
                    {
                        // v = p + b with b != -0.0 is never -0.0, where Math.max (vectorised) and ND4J's ReLU
                        // (v < 0 ? 0 : v, a branch per element) differ; NaN stays the same NaN in both
                        for (int i = 0; i < p.size; i++)
                        {
                            row[i] = Math.max((row[i] - m) / s * g + b, 0f);
                        }
                    }
                    else if (k.relu)
                    {
                        for (int i = 0; i < p.size; i++)
                        {
                            final float v = (row[i] - m) / s * g + b;
                            row[i] = v < 0f ? 0f : v;
                        }
                    }
                    else
                    {
                        for (int i = 0; i < p.size; i++)
                        {
                            row[i] = (row[i] - m) / s * g + b;
                        }
                    }
                    ob.put(offset, row, 0, p.size);
                }
            }
        });
        DenseFloats.written(out);
    }

    /**
     * Adds {@code sum(dy)} into {@code out[c]} and {@code sum(dy * xHat)} into {@code out[C + c]} (double), with
     * {@code xHat} computed from {@code x} as {@link #normalize} does. Its plane loop repeats
     * {@link #inputGradient}'s on purpose: one loop calling either body through an interface ran up to 1.6x slower
     * in SyncBnBench (the call site sees two bodies, so HotSpot inlines neither into the loop).
     */
    static void gradientSums(final INDArray dy, final INDArray x, final Affine k, final double[] out)
    {
        final Planes p = new Planes(dy);
        final FloatBuffer db = DenseFloats.view(dy);
        final FloatBuffer xb = DenseFloats.view(x);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final float[] grad = new float[p.size];
            final float[] hat = new float[p.size];
            for (int n = 0; n < p.count; n++)
            {
                for (int c = from; c < to; c++)
                {
                    final int offset = p.offset(n, c);
                    db.get(offset, grad, 0, p.size);
                    xb.get(offset, hat, 0, p.size);
                    k.normalised(c, hat, p.size);
                    double s0 = 0;
                    double s1 = 0;
                    double q0 = 0;
                    double q1 = 0;
                    int i = 0;
                    for (; i + 1 < p.size; i += 2)
                    {
                        final double g0 = grad[i];
                        final double g1 = grad[i + 1];
                        s0 += g0;
                        s1 += g1;
                        q0 += g0 * hat[i];
                        q1 += g1 * hat[i + 1];
                    }
                    if (i < p.size)
                    {
                        final double g0 = grad[i];
                        s0 += g0;
                        q0 += g0 * hat[i];
                    }
                    out[c] += s0 + s1;
                    out[p.channels + c] += q0 + q1;
                }
            }
        });
    }

    /**
     * {@code dx = ((dy - xHat * meanDyXhat[c]) - meanDy[c]) * scale[c]} (float arithmetic), {@code xHat} as in
     * {@link #gradientSums}.
     */
    static void inputGradient(final INDArray dy, final INDArray x, final Affine k, final float[] scale,
        final float[] meanDy, final float[] meanDyXhat, final INDArray dx)
    {
        final Planes p = new Planes(dy);
        final FloatBuffer db = DenseFloats.view(dy);
        final FloatBuffer xb = DenseFloats.view(x);
        final FloatBuffer out = DenseFloats.view(dx);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final float[] grad = new float[p.size];
            final float[] hat = new float[p.size];
            for (int n = 0; n < p.count; n++)
            {
                for (int c = from; c < to; c++)
                {
                    final int offset = p.offset(n, c);
                    db.get(offset, grad, 0, p.size);
                    xb.get(offset, hat, 0, p.size);
                    k.normalised(c, hat, p.size);
                    final float a = meanDy[c];
                    final float b = meanDyXhat[c];
                    final float sc = scale[c];
                    for (int i = 0; i < p.size; i++)
                    {
                        grad[i] = ((grad[i] - hat[i] * b) - a) * sc;
                    }
                    out.put(offset, grad, 0, p.size);
                }
            }
        });
        DenseFloats.written(dx);
    }

    /**
     * One training step's per-channel float normalisation {@code x -> (x - mean) / std * gamma + beta}, in forward
     * optionally followed by a ReLU (SyncBatchNorm with a fused ReLU). Immutable.
     */
    static final class Affine
    {
        final float[] mean;
        final float[] std;
        final float[] gamma;
        final float[] beta;
        final boolean relu;

        Affine(final double[] mean, final double[] std, final float[] gamma, final float[] beta, final boolean relu)
        {
            this.mean = floats(mean);
            this.std = floats(std);
            this.gamma = gamma;
            this.beta = beta;
            this.relu = relu;
        }

        /** Turns a plane of channel {@code c}'s inputs into {@code xHat} in place, as {@link #normalize} does. */
        void normalised(final int c, final float[] plane, final int size)
        {
            final float m = mean[c];
            final float s = std[c];
            for (int i = 0; i < size; i++)
            {
                plane[i] = (plane[i] - m) / s;
            }
        }

    }

    /** {@code values} rounded to float, element by element. */
    static float[] floats(final double[] values)
    {
        final float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++)
        {
            out[i] = (float)values[i];
        }
        return out;
    }

    /** The {@code (n, c)} planes of a dense c-order array: {@code count x channels} runs of {@code size} floats. */
    private static final class Planes
    {
        final int count;
        final int channels;
        final int size;

        Planes(final INDArray a)
        {
            if (!applicable(a))
            {
                throw new IllegalArgumentException("need a dense c-order FLOAT [N, C] or [N, C, H, W] array, got "
                    + a.dataType() + " order " + a.ordering() + " stride " + a.elementWiseStride() + " shape "
                    + java.util.Arrays.toString(a.shape()));
            }
            count = Math.toIntExact(a.size(0));
            channels = Math.toIntExact(a.size(1));
            size = a.rank() == 4 ? Math.toIntExact(a.size(2) * a.size(3)) : 1;
        }

        int offset(final int n, final int c)
        {
            return (n * channels + c) * size;
        }
    }
}
