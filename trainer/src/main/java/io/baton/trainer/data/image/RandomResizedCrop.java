package io.baton.trainer.data.image;

import io.baton.trainer.data.SplitMix64;

/**
 * torchvision's {@code RandomResizedCrop.get_params}: up to 10 attempts at an area fraction uniform in
 * [{@link #SCALE_MIN}, {@link #SCALE_MAX}] and a log-uniform aspect ratio in [3/4, 4/3] that fits the image, then
 * the fallback: the central crop with the ratio clamped into that range. Draws from the generator in the same order
 * as torchvision (area, log-ratio per attempt; then top, left). Stateless.
 */
public final class RandomResizedCrop
{
    public static final double SCALE_MIN = 0.08;
    public static final double SCALE_MAX = 1.0;
    public static final double RATIO_MIN = 3.0 / 4.0;
    public static final double RATIO_MAX = 4.0 / 3.0;
    /** Attempts before falling back to the central crop. */
    public static final int ATTEMPTS = 10;

    private RandomResizedCrop()
    {
    }

    /** The crop of a {@code width} x {@code height} image. */
    public static CropBox sample(final int width, final int height, final SplitMix64 random)
    {
        final double area = (double)width * height;
        final double logRatioMin = Math.log(RATIO_MIN);
        final double logRatioMax = Math.log(RATIO_MAX);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++)
        {
            final double targetArea = area * uniform(random, SCALE_MIN, SCALE_MAX);
            final double aspect = Math.exp(uniform(random, logRatioMin, logRatioMax));
            final int w = (int)Math.rint(Math.sqrt(targetArea * aspect));
            final int h = (int)Math.rint(Math.sqrt(targetArea / aspect));
            if (0 < w && w <= width && 0 < h && h <= height)
            {
                final int top = random.nextInt(height - h + 1);
                final int left = random.nextInt(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        return centralFallback(width, height);
    }

    /** torchvision's fallback: the whole image, its aspect ratio clamped into [3/4, 4/3], centred. */
    public static CropBox centralFallback(final int width, final int height)
    {
        final double inRatio = (double)width / height;
        int w = width;
        int h = height;
        if (inRatio < RATIO_MIN)
        {
            h = (int)Math.rint(w / RATIO_MIN);
        }
        else if (inRatio > RATIO_MAX)
        {
            w = (int)Math.rint(h * RATIO_MAX);
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    private static double uniform(final SplitMix64 random, final double low, final double high)
    {
        return low + (high - low) * random.nextDouble();
    }
}
