package io.baton.trainer.data.image;

import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * Deterministic photo-like pictures for decoder tests and benchmarks: colour gradients, a smooth texture, and
 * per-pixel noise: a 400x350 JPEG of quality 97 is about the size of an ImageNet photo (~116 kB; quality 90: ~66 kB).
 */
public final class PhotoLike
{
    private PhotoLike()
    {
    }

    /** A picture of {@code width x height} pixels, a pure function of its arguments. */
    public static BufferedImage render(final int width, final int height, final long seed)
    {
        final Random random = new Random(seed);
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        final double fx = 0.01 + random.nextDouble() * 0.05;
        final double fy = 0.01 + random.nextDouble() * 0.05;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final double texture = 40 * Math.sin(x * fx + 3 * Math.sin(y * fy)) * Math.cos(y * fy * 1.7);
                final int r = clamp(x * 200 / width + texture + random.nextGaussian() * 16);
                final int g = clamp(y * 200 / height + texture * 0.6 + random.nextGaussian() * 16);
                final int b = clamp(120 + texture - 30 * Math.sin(x * 0.003 * y) + random.nextGaussian() * 16);
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return image;
    }

    private static int clamp(final double v)
    {
        return (int)Math.max(0, Math.min(255, v));
    }
}
