package io.baton.trainer.data.image;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Antialiased bilinear resampling as Pillow does it (and torchvision's {@code Resize}/{@code RandomResizedCrop} on
 * PIL images): a triangle filter whose support grows with the downscale factor, applied separably (a horizontal pass
 * into rows of floats, then a vertical pass). The source is a rectangle in source pixel coordinates, so
 * resize-then-crop is one pass. It is the train augmentation's main cost after JPEG decoding (issue 21).
 *
 * <p><b>Exact floats.</b> Each output float is computed by the same float operations in the same order as the
 * original per-pixel loop (kept in the tests as {@code ReferenceResampler}): {@code ((w0*s0 + w1*s1) + w2*s2) + ...}
 * over the taps in order, first horizontally, then vertically over those sums. The default training trajectories
 * depend on it ({@code DefaultAugmentationGoldenTest}, {@code ResamplerEquivalenceTest}). Speed comes only from
 * computing many independent outputs side by side in loops HotSpot's C2 auto-vectorises (SuperWord keeps each lane's
 * IEEE semantics and never fuses a multiply and an add): the vertical pass over the floats of an output row, the
 * horizontal pass over {@value #BLOCK} source rows at once, which share one output column's taps, after transposing
 * them so those rows' samples of a column are contiguous. Never reorder the taps of one output.
 *
 * <p><b>Why arrays of arrays.</b> Every vectorised loop indexes its arrays by the loop variable alone ({@code dst[i] =
 * w0 * a[i] + w1 * b[i]}): JDK 17's C2 treats a store and a load whose indices carry different loop-invariant offsets
 * ({@code dst[o + i]}, {@code src[p + i]}) as possibly dependent and then does not vectorise (measured: ~6x slower per
 * element). So the transposed samples are one small array per source sample, the horizontal pass's output one array
 * per row, and an output row is summed into a scratch row and copied into place. JDK 17 vectorises no int or byte
 * to float conversion, so the transposition (one conversion per source sample) and the scatter of the horizontal sums
 * back into rows stay scalar, and are now most of the time.
 *
 * <p><b>Threads.</b> Thread-safe: the static methods share nothing but per-thread scratch buffers (the loader threads
 * each get their own), which a call fully overwrites before reading and which never escape it. A caller passing its
 * own output array must not share that array between threads.
 */
public final class Resampler
{
    /**
     * Source rows the horizontal pass filters together: the lane count of its vectorised loops, long enough that C2's
     * vector main loop dominates its scalar pre- and post-loops (a two-tap loop alone: ~3x more per element at 64
     * lanes than at 128; the whole resampler measured alike at 128 to 352 within a loaded machine's noise).
     */
    private static final int BLOCK = 128;

    /** Scratch buffers larger than this many floats (4 MiB) are allocated per call rather than kept by the thread. */
    private static final int KEEP_LIMIT = 1 << 20;

    /** The byte levels as floats: a table load converted a sample ~25 % faster than an int-to-float conversion. */
    private static final float[] LEVELS = new float[256];

    static
    {
        for (int i = 0; i < LEVELS.length; i++)
        {
            LEVELS[i] = i;
        }
    }

    /** Four bytes of a {@code byte[]} as one little-endian int (a plain, intrinsified load; no module flags). */
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Resampler()
    {
    }

    /**
     * Resamples the rectangle at ({@code x0}, {@code y0}) of size {@code w} x {@code h} (source pixels, may be
     * fractional) of {@code image} to {@code outWidth} x {@code outHeight}; returns interleaved RGB floats in 0..255.
     */
    public static float[] resample(
        final RgbImage image,
        final double x0,
        final double y0,
        final double w,
        final double h,
        final int outWidth,
        final int outHeight)
    {
        return resample(image, x0, y0, w, h, outWidth, outHeight, new float[outWidth * outHeight * 3]);
    }

    /**
     * {@link #resample(RgbImage, double, double, double, double, int, int)} into {@code out} (its first {@code
     * outWidth * outHeight * 3} floats; the rest untouched), which it returns: a caller that resamples image after
     * image can reuse one array instead of allocating ~600 kB per 224x224 image (measured ~15 % of the resampling).
     */
    public static float[] resample(
        final RgbImage image,
        final double x0,
        final double y0,
        final double w,
        final double h,
        final int outWidth,
        final int outHeight,
        final float[] out)
    {
        if (out.length < outWidth * outHeight * 3)
        {
            throw new IllegalArgumentException("out has " + out.length + " floats, needs " + outWidth * outHeight * 3);
        }
        final FilterAxis horizontal = FilterAxis.of(image.width(), x0, w, outWidth);
        final FilterAxis vertical = FilterAxis.of(image.height(), y0, h, outHeight);
        final int rowFirst = vertical.first();
        final int rowEnd = vertical.end();
        final int colFirst = horizontal.first();
        final int samples = (horizontal.end() - colFirst) * 3;
        final int rowStride = outWidth * 3;
        final Scratch scratch = SCRATCH.get();
        // The horizontal pass's rows live in a ring of BLOCK + taps rows, reused as the vertical pass moves down: a
        // thread keeps ~360 kB of rows at 224 rather than a crop's full height (~1 MB). (Meant to keep them in cache
        // between the passes too; that measured no faster within the noise.)
        final int ring = vertical.endsAscend() ? Math.min(rowEnd - rowFirst, BLOCK + vertical.taps)
            : rowEnd - rowFirst;
        final float[][] rows = scratch.rows(ring, rowStride);
        final float[][] taps = new float[vertical.taps][];
        final float[] sum = scratch.sum(rowStride);
        int next = 0;
        final float[][] columns = scratch.columns(samples);
        final float[][] sums = scratch.sums;
        final byte[] src = image.rgb();
        final int srcStride = image.width() * 3;

        // Horizontal pass, BLOCK source rows at a time: their samples transposed to floats, columns[s][j] = sample s
        // (from colFirst, interleaved RGB) of row y + j; then for each output column and channel the taps run over
        // the rows side by side, and the sums are scattered into the rows (row r in rows[r % ring]). Then the
        // vertical pass makes every output row whose taps are all done.
        for (int y = rowFirst; y < rowEnd; y += BLOCK)
        {
            final int n = Math.min(BLOCK, rowEnd - y);
            final int base = y * srcStride + colFirst * 3;
            transpose(src, base, srcStride, samples, columns, n);
            // four output columns (twelve sums) at a time, so that each row is fetched once per twelve scattered
            // floats
            final int row = y - rowFirst;
            final int slot = row % ring;
            for (int x = 0; x < outWidth; x += 4)
            {
                final int group = Math.min(4, outWidth - x);
                for (int u = 0; u < group; u++)
                {
                    final int from = (horizontal.start[x + u] - colFirst) * 3;
                    for (int c = 0; c < 3; c++)
                    {
                        filter(columns, from + c, 3, horizontal.weights, (x + u) * horizontal.taps,
                            horizontal.count[x + u], sums[u * 3 + c], n);
                    }
                }
                final int o = x * 3;
                if (group == 4)
                {
                    final float[] s0 = sums[0];
                    final float[] s1 = sums[1];
                    final float[] s2 = sums[2];
                    final float[] s3 = sums[3];
                    final float[] s4 = sums[4];
                    final float[] s5 = sums[5];
                    final float[] s6 = sums[6];
                    final float[] s7 = sums[7];
                    final float[] s8 = sums[8];
                    final float[] s9 = sums[9];
                    final float[] s10 = sums[10];
                    final float[] s11 = sums[11];
                    for (int j = 0, t = slot; j < n; j++, t = t + 1 == ring ? 0 : t + 1)
                    {
                        final float[] dst = rows[t];
                        dst[o] = s0[j];
                        dst[o + 1] = s1[j];
                        dst[o + 2] = s2[j];
                        dst[o + 3] = s3[j];
                        dst[o + 4] = s4[j];
                        dst[o + 5] = s5[j];
                        dst[o + 6] = s6[j];
                        dst[o + 7] = s7[j];
                        dst[o + 8] = s8[j];
                        dst[o + 9] = s9[j];
                        dst[o + 10] = s10[j];
                        dst[o + 11] = s11[j];
                    }
                }
                else
                {
                    for (int g = 0; g < group * 3; g++)
                    {
                        final float[] sg = sums[g];
                        for (int j = 0, t = slot; j < n; j++, t = t + 1 == ring ? 0 : t + 1)
                        {
                            rows[t][o + g] = sg[j];
                        }
                    }
                }
            }

            // Vertical pass: each output row is its taps' rows, weighted and summed element by element.
            for (; next < outHeight && vertical.start[next] + vertical.count[next] - rowFirst <= row + n; next++)
            {
                for (int k = 0; k < vertical.count[next]; k++)
                {
                    taps[k] = rows[(vertical.start[next] - rowFirst + k) % ring];
                }
                filter(taps, 0, 1, vertical.weights, next * vertical.taps, vertical.count[next], sum, rowStride);
                System.arraycopy(sum, 0, out, next * rowStride, rowStride);
            }
        }
        return out;
    }

    /**
     * {@code columns[s][j] = src[base + j * stride + s]} as a float, for {@code s < samples}, {@code j < rows}. Four
     * samples per (unaligned, little-endian) int load: the byte loads, not the table lookups, bound this scalar loop
     * (measured ~15 % of the whole resampling faster than a byte at a time; 8 per long load was no faster).
     */
    private static void transpose(final byte[] src, final int base, final int stride, final int samples,
        final float[][] columns, final int rows)
    {
        final float[] levels = LEVELS;
        int s = 0;
        for (; s + 4 <= samples; s += 4)
        {
            final float[] c0 = columns[s];
            final float[] c1 = columns[s + 1];
            final float[] c2 = columns[s + 2];
            final float[] c3 = columns[s + 3];
            int q = base + s;
            for (int j = 0; j < rows; j++, q += stride)
            {
                final int v = (int)INTS.get(src, q);
                c0[j] = levels[v & 0xFF];
                c1[j] = levels[(v >>> 8) & 0xFF];
                c2[j] = levels[(v >>> 16) & 0xFF];
                c3[j] = levels[v >>> 24];
            }
        }
        for (; s < samples; s++)
        {
            final float[] column = columns[s];
            int q = base + s;
            for (int j = 0; j < rows; j++, q += stride)
            {
                column[j] = levels[src[q] & 0xFF];
            }
        }
    }

    /**
     * {@code dst[i] = w0 * src[first][i] + w1 * src[first + stride][i] + ...} for {@code i < length}, over {@code
     * count} taps with weights {@code weights[k0..]}, summed left to right exactly as {@code sum = 0; sum += w * s}
     * does (the first product stands for {@code 0 + w0 * s0}: weights and samples are non-negative, so that sum is the
     * product). Up to four taps per sweep, each sweep a loop C2 vectorises; longer filters continue from {@code dst},
     * which holds the exact partial sums.
     */
    private static void filter(final float[][] src, final int first, final int stride, final float[] weights,
        final int k0, final int count, final float[] dst, final int length)
    {
        final int head = Math.min(count, 4);
        final float[] a = src[first];
        final float w0 = weights[k0];
        switch (head)
        {
            case 1:
                for (int i = 0; i < length; i++)
                {
                    dst[i] = w0 * a[i];
                }
                break;
            case 2:
            {
                final float[] b = src[first + stride];
                final float w1 = weights[k0 + 1];
                for (int i = 0; i < length; i++)
                {
                    dst[i] = w0 * a[i] + w1 * b[i];
                }
                break;
            }
            case 3:
            {
                final float[] b = src[first + stride];
                final float[] c = src[first + 2 * stride];
                final float w1 = weights[k0 + 1];
                final float w2 = weights[k0 + 2];
                for (int i = 0; i < length; i++)
                {
                    dst[i] = w0 * a[i] + w1 * b[i] + w2 * c[i];
                }
                break;
            }
            default:
            {
                final float[] b = src[first + stride];
                final float[] c = src[first + 2 * stride];
                final float[] d = src[first + 3 * stride];
                final float w1 = weights[k0 + 1];
                final float w2 = weights[k0 + 2];
                final float w3 = weights[k0 + 3];
                for (int i = 0; i < length; i++)
                {
                    dst[i] = w0 * a[i] + w1 * b[i] + w2 * c[i] + w3 * d[i];
                }
                break;
            }
        }
        for (int k = head; k < count; k += 4)
        {
            final float[] e = src[first + k * stride];
            final float v0 = weights[k0 + k];
            switch (Math.min(count - k, 4))
            {
                case 1:
                    for (int i = 0; i < length; i++)
                    {
                        dst[i] = dst[i] + v0 * e[i];
                    }
                    break;
                case 2:
                {
                    final float[] f = src[first + (k + 1) * stride];
                    final float v1 = weights[k0 + k + 1];
                    for (int i = 0; i < length; i++)
                    {
                        dst[i] = dst[i] + v0 * e[i] + v1 * f[i];
                    }
                    break;
                }
                case 3:
                {
                    final float[] f = src[first + (k + 1) * stride];
                    final float[] g = src[first + (k + 2) * stride];
                    final float v1 = weights[k0 + k + 1];
                    final float v2 = weights[k0 + k + 2];
                    for (int i = 0; i < length; i++)
                    {
                        dst[i] = dst[i] + v0 * e[i] + v1 * f[i] + v2 * g[i];
                    }
                    break;
                }
                default:
                {
                    final float[] f = src[first + (k + 1) * stride];
                    final float[] g = src[first + (k + 2) * stride];
                    final float[] h = src[first + (k + 3) * stride];
                    final float v1 = weights[k0 + k + 1];
                    final float v2 = weights[k0 + k + 2];
                    final float v3 = weights[k0 + k + 3];
                    for (int i = 0; i < length; i++)
                    {
                        dst[i] = dst[i] + v0 * e[i] + v1 * f[i] + v2 * g[i] + v3 * h[i];
                    }
                    break;
                }
            }
        }
    }

    /** Resamples a whole image to a new size and rounds back to bytes (used to shrink images at prepare time). */
    public static RgbImage resize(final RgbImage image, final int outWidth, final int outHeight)
    {
        final float[] samples = resample(image, 0, 0, image.width(), image.height(), outWidth, outHeight);
        final byte[] rgb = new byte[samples.length];
        for (int i = 0; i < samples.length; i++)
        {
            final int v = Math.round(samples[i]);
            rgb[i] = (byte)(v < 0 ? 0 : Math.min(v, 255));
        }
        return new RgbImage(outWidth, outHeight, rgb);
    }

    /** The image's own samples as interleaved RGB floats in 0..255 (no resampling). */
    public static float[] samples(final RgbImage image)
    {
        final byte[] src = image.rgb();
        final float[] rgb = new float[src.length];
        for (int i = 0; i < src.length; i++)
        {
            rgb[i] = src[i] & 0xFF;
        }
        return rgb;
    }

    /** One thread's scratch buffers, grown on demand; their contents never outlive a call. */
    private static final class Scratch
    {
        final float[][] sums = new float[12][BLOCK];
        private float[][] rows = new float[0][];
        private float[][] columns = new float[0][];
        private float[] sum = new float[0];

        /** {@code count} rows of {@code length} floats. */
        float[][] rows(final int count, final int length)
        {
            if (rows.length >= count && rows.length > 0 && rows[0].length == length)
            {
                return rows;
            }
            final float[][] a = new float[Math.max(count, rows.length)][length];
            if ((long)a.length * length <= KEEP_LIMIT)
            {
                rows = a;
            }
            return a;
        }

        /** {@code count} columns of {@link #BLOCK} floats. */
        float[][] columns(final int count)
        {
            if (columns.length >= count)
            {
                return columns;
            }
            final float[][] a = new float[count][BLOCK];
            if ((long)count * BLOCK <= KEEP_LIMIT)
            {
                columns = a;
            }
            return a;
        }

        float[] sum(final int length)
        {
            if (sum.length < length)
            {
                sum = new float[length];
            }
            return sum;
        }
    }
}
