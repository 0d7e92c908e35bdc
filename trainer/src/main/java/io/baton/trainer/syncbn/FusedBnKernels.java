package io.baton.trainer.syncbn;

import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.backend.ReplicaParallel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * SyncBatchNorm's per-channel work on dense c-order FLOAT arrays {@code [N, C]} or {@code [N, C, H, W]} in one or
 * two passes each, instead of a chain of ND4J broadcast and reduction ops (each its own pass, the sums over the
 * non-contiguous dimensions {0, 2, 3} through TADs, and double copies of the whole activation): measured 1.1-2x
 * slower than DL4J's oneDNN BN before (docs/BENCHMARKS.md). An image's planes of consecutive channels are
 * contiguous; a run of them is read in bulk into a scratch array, each channel's constants spread over its plane, and
 * processed in one loop that HotSpot vectorises.
 *
 * <p>The element-wise arithmetic is the same float operations, in the same order, as the ND4J op chain it replaces
 * ({@code (x - mean) / std * gamma + beta}; {@code ((dy - xhat * b) - a) * scale}). The sums are taken in float
 * lanes, one per position, over {@link #BLOCK_IMAGES} images at a time, and each block's lanes are added into the
 * channel's double sums in a fixed order: identical inputs give identical sums on every rank, thread count and run.
 *
 * <p>The normalised input is never stored: backward computes it again from the layer's input (one read instead of a
 * write in forward and a read in backward, and no activation-sized buffer per layer). With a fused ReLU (a ReLU
 * layer alone after the BN, {@link SyncBatchNorm#isFusedRelu()}) the forward pass applies it, so that layer passes
 * its input on; its derivative stays with that layer's backward pass.
 *
 * <p>The four kernels repeat their loop skeleton on purpose: one loop calling each kernel's body through an interface
 * ran up to 1.6x slower in SyncBnBench (the call site sees several bodies, so HotSpot inlines none into the loop).
 *
 * <p>Threading: stateless; the caller owns the arrays. Each kernel splits its channels over the replica's compute
 * threads ({@link ReplicaParallel}); a channel's sums are taken in the same order whichever thread and run take
 * them, so the results do not depend on the thread count.
 */
final class FusedBnKernels
{
    private static final int NEGATIVE_ZERO_BITS = 0x80000000;
    /**
     * Images whose values each position's float lane adds up before the lanes go into the channel's double sums:
     * float lanes let HotSpot vectorise the sums (it vectorises neither a double reduction nor float to double), and
     * 16 terms per lane keep their rounding near float's (at most ~16 ulp of the block's magnitude).
     */
    static final int BLOCK_IMAGES = 16;
    /**
     * Floats one kernel loop runs over at once: a run of consecutive channels of one image (contiguous in c-order),
     * with each channel's constants spread over its plane, so that 8x8 planes still make a long loop HotSpot
     * vectorises. 4 kB per array keeps a kernel's up to seven arrays in L1: in a ResNet-20 training profile, runs of
     * 16 kB and 128 kB (arrays in L2) took 10-16 ms more per step in their copies and loops than 4 kB runs.
     */
    private static final int RUN_FLOATS = 1024;
    /** Scratch arrays per thread, kept between calls rather than allocated and zeroed in each. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[7][0]);

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
     * Adds {@code sum(x - shift[c])} into {@code out[c]} and {@code sum((x - shift[c])^2)} into {@code out[C + c]},
     * over every dimension but 1: float lanes per position over blocks of {@link #BLOCK_IMAGES} images, each block
     * added into the channel's double sums in position order.
     */
    static void shiftedSums(final INDArray x, final double[] shift, final double[] out)
    {
        final Planes p = new Planes(x);
        final FloatBuffer xb = DenseFloats.view(x);
        final float[] shiftFloats = floats(shift);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final int capacity = p.runCapacity(from, to);
            final float[] row = scratch(0, capacity);
            final float[] k = scratch(1, capacity);
            final float[] sums = scratch(2, capacity);
            final float[] squares = scratch(3, capacity);
            for (int c0 = from; c0 < to; c0 += p.runChannels)
            {
                final int c1 = Math.min(to, c0 + p.runChannels);
                final int length = p.expand(shiftFloats, c0, c1, k);
                for (int n0 = 0; n0 < p.count; n0 += BLOCK_IMAGES)
                {
                    Arrays.fill(sums, 0, length, 0f);
                    Arrays.fill(squares, 0, length, 0f);
                    for (int n = n0, n1 = Math.min(p.count, n0 + BLOCK_IMAGES); n < n1; n++)
                    {
                        xb.get(p.offset(n, c0), row, 0, length);
                        for (int i = 0; i < length; i++)
                        {
                            final float d = row[i] - k[i];
                            sums[i] += d;
                            squares[i] += d * d;
                        }
                    }
                    p.addPerChannel(sums, squares, c0, c1, out);
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
            final int capacity = p.runCapacity(from, to);
            final float[] row = scratch(0, capacity);
            final float[] m = scratch(1, capacity);
            final float[] s = scratch(2, capacity);
            final float[] g = scratch(3, capacity);
            final float[] b = scratch(4, capacity);
            for (int c0 = from; c0 < to; c0 += p.runChannels)
            {
                final int c1 = Math.min(to, c0 + p.runChannels);
                final int length = p.expand(k.mean, c0, c1, m);
                p.expand(k.std, c0, c1, s);
                p.expand(k.gamma, c0, c1, g);
                p.expand(k.beta, c0, c1, b);
                // v = xHat * g + b with b != -0.0 is never -0.0, where Math.max (vectorised) and ND4J's ReLU
                // (v < 0 ? 0 : v, a branch per element) differ; NaN stays the same NaN in both
                final boolean maxIsNd4jRelu = k.relu && !anyNegativeZero(k.beta, c0, c1);
                for (int n = 0; n < p.count; n++)
                {
                    final int offset = p.offset(n, c0);
                    xb.get(offset, row, 0, length);
                    if (maxIsNd4jRelu)
                    {
                        for (int i = 0; i < length; i++)
                        {
                            row[i] = Math.max((row[i] - m[i]) / s[i] * g[i] + b[i], 0f);
                        }
                    }
                    else if (k.relu)
                    {
                        for (int i = 0; i < length; i++)
                        {
                            final float v = (row[i] - m[i]) / s[i] * g[i] + b[i];
                            row[i] = v < 0f ? 0f : v;
                        }
                    }
                    else
                    {
                        for (int i = 0; i < length; i++)
                        {
                            row[i] = (row[i] - m[i]) / s[i] * g[i] + b[i];
                        }
                    }
                    ob.put(offset, row, 0, length);
                }
            }
        });
        DenseFloats.written(out);
    }

    /**
     * Adds {@code sum(dy)} into {@code out[c]} and {@code sum(dy * xHat)} into {@code out[C + c]}, with {@code xHat}
     * computed from {@code x} as {@link #normalize} does; summed as {@link #shiftedSums} sums.
     */
    static void gradientSums(final INDArray dy, final INDArray x, final Affine k, final double[] out)
    {
        final Planes p = new Planes(dy);
        final FloatBuffer db = DenseFloats.view(dy);
        final FloatBuffer xb = DenseFloats.view(x);
        ReplicaParallel.forRange(p.channels, (long)p.count * p.size, (from, to) ->
        {
            final int capacity = p.runCapacity(from, to);
            final float[] grad = scratch(0, capacity);
            final float[] in = scratch(1, capacity);
            final float[] m = scratch(2, capacity);
            final float[] s = scratch(3, capacity);
            final float[] sums = scratch(4, capacity);
            final float[] products = scratch(5, capacity);
            for (int c0 = from; c0 < to; c0 += p.runChannels)
            {
                final int c1 = Math.min(to, c0 + p.runChannels);
                final int length = p.expand(k.mean, c0, c1, m);
                p.expand(k.std, c0, c1, s);
                for (int n0 = 0; n0 < p.count; n0 += BLOCK_IMAGES)
                {
                    Arrays.fill(sums, 0, length, 0f);
                    Arrays.fill(products, 0, length, 0f);
                    for (int n = n0, n1 = Math.min(p.count, n0 + BLOCK_IMAGES); n < n1; n++)
                    {
                        final int offset = p.offset(n, c0);
                        db.get(offset, grad, 0, length);
                        xb.get(offset, in, 0, length);
                        for (int i = 0; i < length; i++)
                        {
                            final float d = grad[i];
                            sums[i] += d;
                            products[i] += d * ((in[i] - m[i]) / s[i]);
                        }
                    }
                    p.addPerChannel(sums, products, c0, c1, out);
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
            final int capacity = p.runCapacity(from, to);
            final float[] grad = scratch(0, capacity);
            final float[] in = scratch(1, capacity);
            final float[] m = scratch(2, capacity);
            final float[] s = scratch(3, capacity);
            final float[] a = scratch(4, capacity);
            final float[] b = scratch(5, capacity);
            final float[] sc = scratch(6, capacity);
            for (int c0 = from; c0 < to; c0 += p.runChannels)
            {
                final int c1 = Math.min(to, c0 + p.runChannels);
                final int length = p.expand(k.mean, c0, c1, m);
                p.expand(k.std, c0, c1, s);
                p.expand(meanDy, c0, c1, a);
                p.expand(meanDyXhat, c0, c1, b);
                p.expand(scale, c0, c1, sc);
                for (int n = 0; n < p.count; n++)
                {
                    final int offset = p.offset(n, c0);
                    db.get(offset, grad, 0, length);
                    xb.get(offset, in, 0, length);
                    for (int i = 0; i < length; i++)
                    {
                        grad[i] = ((grad[i] - (in[i] - m[i]) / s[i] * b[i]) - a[i]) * sc[i];
                    }
                    out.put(offset, grad, 0, length);
                }
            }
        });
        DenseFloats.written(dx);
    }

    /** This thread's scratch array {@code slot} of at least {@code capacity} floats (any contents). */
    private static float[] scratch(final int slot, final int capacity)
    {
        final float[][] arrays = SCRATCH.get();
        if (arrays[slot].length < capacity)
        {
            arrays[slot] = new float[capacity];
        }
        return arrays[slot];
    }

    private static boolean anyNegativeZero(final float[] values, final int from, final int to)
    {
        for (int c = from; c < to; c++)
        {
            if (Float.floatToRawIntBits(values[c]) == NEGATIVE_ZERO_BITS)
            {
                return true;
            }
        }
        return false;
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
        /** Channels whose planes one loop processes at once: short planes make one long, vectorised loop. */
        final int runChannels;

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
            runChannels = Math.max(1, RUN_FLOATS / size);
        }

        int offset(final int n, final int c)
        {
            return (n * channels + c) * size;
        }

        /** Floats of the longest run of channels a part {@code [from, to)} processes at once. */
        int runCapacity(final int from, final int to)
        {
            return Math.min(runChannels, to - from) * size;
        }

        /** Writes {@code perChannel[c]} over each of channels {@code [from, to)}'s planes into {@code run}. */
        int expand(final float[] perChannel, final int from, final int to, final float[] run)
        {
            for (int c = from; c < to; c++)
            {
                Arrays.fill(run, (c - from) * size, (c - from + 1) * size, perChannel[c]);
            }
            return (to - from) * size;
        }

        /** Adds each channel's float lanes, in position order, into its double sums {@code out[c]}, {@code out[C + c]}. */
        void addPerChannel(final float[] first, final float[] second, final int from, final int to, final double[] out)
        {
            for (int c = from; c < to; c++)
            {
                double a = 0;
                double b = 0;
                for (int i = (c - from) * size, end = i + size; i < end; i++)
                {
                    a += first[i];
                    b += second[i];
                }
                out[c] += a;
                out[channels + c] += b;
            }
        }
    }
}
