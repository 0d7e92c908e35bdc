package io.baton.trainer.syncbn;

import io.baton.trainer.backend.DenseFloats;
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
 * <p>Threading: stateless; the caller owns the arrays.
 */
final class FusedBnKernels
{
    private FusedBnKernels()
    {
    }

    /** Whether the kernels can run on {@code a} without a copy. */
    static boolean applicable(final INDArray a)
    {
        return a.dataType() == DataType.FLOAT && a.ordering() == 'c' && a.elementWiseStride() == 1
            && (a.rank() == 2 || a.rank() == 4) && a.length() > 0;
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
        final float[] row = new float[p.size];
        for (int n = 0; n < p.count; n++)
        {
            for (int c = 0; c < p.channels; c++)
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
    }

    /** {@code xHat = (x - mean[c]) / std[c]}, {@code out = xHat * gamma[c] + beta[c]} (float arithmetic). */
    static void normalize(final INDArray x, final double[] mean, final double[] std, final float[] gamma,
        final float[] beta, final INDArray xHat, final INDArray out)
    {
        final Planes p = new Planes(x);
        final FloatBuffer xb = DenseFloats.view(x);
        final FloatBuffer hb = DenseFloats.view(xHat);
        final FloatBuffer ob = DenseFloats.view(out);
        final float[] row = new float[p.size];
        final float[] hat = new float[p.size];
        for (int n = 0; n < p.count; n++)
        {
            for (int c = 0; c < p.channels; c++)
            {
                final int offset = p.offset(n, c);
                xb.get(offset, row, 0, p.size);
                final float m = (float)mean[c];
                final float s = (float)std[c];
                final float g = gamma[c];
                final float b = beta[c];
                for (int i = 0; i < p.size; i++)
                {
                    final float h = (row[i] - m) / s;
                    hat[i] = h;
                    row[i] = h * g + b;
                }
                hb.put(offset, hat, 0, p.size);
                ob.put(offset, row, 0, p.size);
            }
        }
        DenseFloats.written(xHat);
        DenseFloats.written(out);
    }

    /** Adds {@code sum(dy)} into {@code out[c]} and {@code sum(dy * xHat)} into {@code out[C + c]} (double). */
    static void gradientSums(final INDArray dy, final INDArray xHat, final double[] out)
    {
        final Planes p = new Planes(dy);
        final FloatBuffer db = DenseFloats.view(dy);
        final FloatBuffer hb = DenseFloats.view(xHat);
        final float[] grad = new float[p.size];
        final float[] hat = new float[p.size];
        for (int n = 0; n < p.count; n++)
        {
            for (int c = 0; c < p.channels; c++)
            {
                final int offset = p.offset(n, c);
                db.get(offset, grad, 0, p.size);
                hb.get(offset, hat, 0, p.size);
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
    }

    /** {@code dx = ((dy - xHat * meanDyXhat[c]) - meanDy[c]) * scale[c]} (float arithmetic). */
    static void inputGradient(final INDArray dy, final INDArray xHat, final float[] scale, final float[] meanDy,
        final float[] meanDyXhat, final INDArray dx)
    {
        final Planes p = new Planes(dy);
        final FloatBuffer db = DenseFloats.view(dy);
        final FloatBuffer hb = DenseFloats.view(xHat);
        final FloatBuffer xb = DenseFloats.view(dx);
        final float[] grad = new float[p.size];
        final float[] hat = new float[p.size];
        for (int n = 0; n < p.count; n++)
        {
            for (int c = 0; c < p.channels; c++)
            {
                final int offset = p.offset(n, c);
                db.get(offset, grad, 0, p.size);
                hb.get(offset, hat, 0, p.size);
                final float a = meanDy[c];
                final float b = meanDyXhat[c];
                final float sc = scale[c];
                for (int i = 0; i < p.size; i++)
                {
                    grad[i] = ((grad[i] - hat[i] * b) - a) * sc;
                }
                xb.put(offset, grad, 0, p.size);
            }
        }
        DenseFloats.written(dx);
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
