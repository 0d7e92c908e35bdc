package io.baton.trainer.data.image;

/**
 * The filter taps of one axis of {@link Resampler}'s antialiased bilinear resampling (Pillow's): for each output index
 * the first input index, the tap count and the normalised weights. Immutable once built; thread-safe.
 */
final class FilterAxis
{
    final int[] start;
    final int[] count;
    final float[] weights;
    final int taps;

    private FilterAxis(final int outSize, final int taps)
    {
        this.start = new int[outSize];
        this.count = new int[outSize];
        this.weights = new float[outSize * taps];
        this.taps = taps;
    }

    /**
     * Whether each output's taps end at or after the previous output's, so that the ring of rows holds all of an
     * output's rows when its last is done (always, short of a rectangle wholly outside the image).
     */
    boolean endsAscend()
    {
        for (int i = 1; i < start.length; i++)
        {
            if (start[i] + count[i] < start[i - 1] + count[i - 1])
            {
                return false;
            }
        }
        return true;
    }

    /** The first input index any output reads. */
    int first()
    {
        int first = Integer.MAX_VALUE;
        for (final int s : start)
        {
            first = Math.min(first, s);
        }
        return first;
    }

    /** One past the last input index any output reads. */
    int end()
    {
        int end = 0;
        for (int i = 0; i < start.length; i++)
        {
            end = Math.max(end, start[i] + count[i]);
        }
        return end;
    }

    static FilterAxis of(final int inSize, final double from, final double length, final int outSize)
    {
        final double scale = length / outSize;
        final double filterScale = Math.max(scale, 1.0);
        final double support = filterScale; // bilinear filter support 1.0, widened when shrinking
        final FilterAxis axis = new FilterAxis(outSize, (int)Math.ceil(support) * 2 + 1);
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
