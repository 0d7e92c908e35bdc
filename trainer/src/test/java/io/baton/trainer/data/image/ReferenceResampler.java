package io.baton.trainer.data.image;

/**
 * The resampler as it was before it was restructured for speed (issue 21): {@link Resampler#resample} and its tap
 * computation copied verbatim from commit 8db1dd4, kept as the reference that {@code ResamplerEquivalenceTest} compares
 * the fast one with bit for bit, and as the baseline of {@code io.baton.trainer.bench.ResamplerBench}. Not for use.
 */
public final class ReferenceResampler
{
    private ReferenceResampler()
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
        final Axis horizontal = Axis.of(image.width(), x0, w, outWidth);
        final Axis vertical = Axis.of(image.height(), y0, h, outHeight);
        final int rowFirst = vertical.start[0];
        final int rowEnd = vertical.start[outHeight - 1] + vertical.count[outHeight - 1];
        final byte[] src = image.rgb();
        final int srcStride = image.width() * 3;

        final float[] rows = new float[(rowEnd - rowFirst) * outWidth * 3];
        for (int y = rowFirst; y < rowEnd; y++)
        {
            final int rowBase = y * srcStride;
            int o = (y - rowFirst) * outWidth * 3;
            for (int x = 0; x < outWidth; x++, o += 3)
            {
                float r = 0;
                float g = 0;
                float b = 0;
                int p = rowBase + horizontal.start[x] * 3;
                final int k0 = x * horizontal.taps;
                for (int k = 0; k < horizontal.count[x]; k++, p += 3)
                {
                    final float weight = horizontal.weights[k0 + k];
                    r += weight * (src[p] & 0xFF);
                    g += weight * (src[p + 1] & 0xFF);
                    b += weight * (src[p + 2] & 0xFF);
                }
                rows[o] = r;
                rows[o + 1] = g;
                rows[o + 2] = b;
            }
        }

        final float[] out = new float[outWidth * outHeight * 3];
        final int rowStride = outWidth * 3;
        for (int y = 0; y < outHeight; y++)
        {
            final int k0 = y * vertical.taps;
            final int first = vertical.start[y] - rowFirst;
            final int o = y * rowStride;
            for (int k = 0; k < vertical.count[y]; k++)
            {
                final float weight = vertical.weights[k0 + k];
                final int p = (first + k) * rowStride;
                for (int i = 0; i < rowStride; i++)
                {
                    out[o + i] += weight * rows[p + i];
                }
            }
        }
        return out;
    }

    /** Filter taps of one axis: for each output index the first input index, the tap count and the weights. */
    private static final class Axis
    {
        final int[] start;
        final int[] count;
        final float[] weights;
        final int taps;

        private Axis(final int outSize, final int taps)
        {
            this.start = new int[outSize];
            this.count = new int[outSize];
            this.weights = new float[outSize * taps];
            this.taps = taps;
        }

        static Axis of(final int inSize, final double from, final double length, final int outSize)
        {
            final double scale = length / outSize;
            final double filterScale = Math.max(scale, 1.0);
            final double support = filterScale; // bilinear filter support 1.0, widened when shrinking
            final Axis axis = new Axis(outSize, (int)Math.ceil(support) * 2 + 1);
            for (int i = 0; i < outSize; i++)
            {
                final double center = from + (i + 0.5) * scale;
                final int min = Math.max(0, (int)Math.floor(center - support + 0.5));
                final int max = Math.min(inSize, (int)Math.floor(center + support + 0.5));
                double total = 0;
                int n = 0;
                for (int x = min; x < max && n < axis.taps; x++, n++)
                {
                    final double w = Math.max(0.0, 1.0 - Math.abs((x - center + 0.5) / filterScale));
                    axis.weights[i * axis.taps + n] = (float)w;
                    total += w;
                }
                if (total <= 0)
                {
                    axis.start[i] = Math.min(inSize - 1, Math.max(0, (int)Math.floor(center)));
                    axis.count[i] = 1;
                    axis.weights[i * axis.taps] = 1f;
                    continue;
                }
                for (int k = 0; k < n; k++)
                {
                    axis.weights[i * axis.taps + k] /= (float)total;
                }
                axis.start[i] = min;
                axis.count[i] = n;
            }
            return axis;
        }
    }
}
