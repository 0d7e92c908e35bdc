package io.baton.trainer.data.image;

import io.baton.trainer.data.SplitMix64;

/**
 * torchvision's {@code RandomResizedCrop.get_params}: up to 10 attempts at an area fraction uniform in
 * [scale min, scale max] (ImageNet: [{@link #SCALE_MIN}, {@link #SCALE_MAX}]) and a log-uniform aspect ratio in
 * [ratio min, ratio max] (ImageNet: [3/4, 4/3]) that fits the image, then the fallback: the central crop with the
 * ratio clamped into that range. Draws from the generator in the same order as torchvision (area, log-ratio per
 * attempt; then top, left). Stateless.
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

    /** The crop of a {@code width} x {@code height} image with the ImageNet scale and ratio ranges. */
    public static CropBox sample(final int width, final int height, final SplitMix64 random)
    {
        return sample(width, height, random, SCALE_MIN, SCALE_MAX, RATIO_MIN, RATIO_MAX);
    }

    /** The crop of a {@code width} x {@code height} image with the given scale and ratio ranges. */
    public static CropBox sample(
        final int width,
        final int height,
        final SplitMix64 random,
        final double scaleMin,
        final double scaleMax,
        final double ratioMin,
        final double ratioMax)
    {
        final double area = (double)width * height;
        final double logRatioMin = Math.log(ratioMin);
        final double logRatioMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++)
        {
            final double targetArea = area * uniform(random, scaleMin, scaleMax);
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
        return centralFallback(width, height, ratioMin, ratioMax);
    }

    /** torchvision's fallback: the whole image, its aspect ratio clamped into [3/4, 4/3], centred. */
    public static CropBox centralFallback(final int width, final int height)
    {
        return centralFallback(width, height, RATIO_MIN, RATIO_MAX);
    }

    /** torchvision's fallback: the whole image, its aspect ratio clamped into [ratioMin, ratioMax], centred. */
    public static CropBox centralFallback(final int width, final int height, final double ratioMin,
        final double ratioMax)
    {
        final double inRatio = (double)width / height;
        int w = width;
        int h = height;
        if (inRatio < ratioMin)
        {
            h = (int)Math.rint(w / ratioMin);
        }
        else if (inRatio > ratioMax)
        {
            w = (int)Math.rint(h * ratioMax);
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    private static double uniform(final SplitMix64 random, final double low, final double high)
    {
        return low + (high - low) * random.nextDouble();
    }
}
