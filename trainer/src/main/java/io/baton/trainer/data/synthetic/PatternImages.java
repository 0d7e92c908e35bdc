package io.baton.trainer.data.synthetic;

import io.baton.trainer.data.AugmentationSeeds;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;

/**
 * A small, learnable image classification data set generated from a seed: class k is an oriented stripe pattern
 * with its own orientation, frequency and tint; each sample adds its own phase, contrast and pixel noise. Used by
 * the demo (written out as JPEG/PNG files in ImageNet layout) and by tests that need a loss that really falls.
 * Every pixel is a function of (seed, sample id) only. Stateless and thread-safe.
 */
public final class PatternImages
{
    private final long seed;
    private final int numClasses;
    private final int height;
    private final int width;

    public PatternImages(final long seed, final int numClasses, final int height, final int width)
    {
        if (numClasses < 2 || height < 4 || width < 4)
        {
            throw new IllegalArgumentException("need >= 2 classes and images >= 4x4, got classes=" + numClasses
                + " size=" + height + "x" + width);
        }
        this.seed = seed;
        this.numClasses = numClasses;
        this.height = height;
        this.width = width;
    }

    public int numClasses()
    {
        return numClasses;
    }

    public int height()
    {
        return height;
    }

    public int width()
    {
        return width;
    }

    /** The class of a sample: ids are spread round-robin over the classes. */
    public int label(final int sampleId)
    {
        return Math.floorMod(sampleId, numClasses);
    }

    /** The sample's RGB image. */
    public BufferedImage image(final int sampleId)
    {
        final int[] rgb = rgb(sampleId);
        final BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    /** Packed 0xRRGGBB pixels, row-major. */
    public int[] rgb(final int sampleId)
    {
        final int k = label(sampleId);
        final double angle = Math.PI * k / numClasses;
        final double frequency = 2 * Math.PI * (1.5 + (k % 3)) / Math.min(height, width);
        final double cos = Math.cos(angle);
        final double sin = Math.sin(angle);
        final double[] tint = {
            0.5 + 0.4 * Math.cos(2 * Math.PI * k / numClasses),
            0.5 + 0.4 * Math.cos(2 * Math.PI * k / numClasses + 2.1),
            0.5 + 0.4 * Math.cos(2 * Math.PI * k / numClasses + 4.2)};
        final SplittableRandom random = new SplittableRandom(AugmentationSeeds.seed(seed, -1, sampleId));
        final double phase = random.nextDouble() * 2 * Math.PI;
        final double contrast = 0.25 + 0.15 * random.nextDouble();
        final int[] out = new int[height * width];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final double wave = Math.sin(frequency * (x * cos + y * sin) + phase);
                int pixel = 0;
                for (int c = 0; c < 3; c++)
                {
                    final double v = tint[c] + contrast * wave + 0.08 * (random.nextDouble() - 0.5);
                    pixel = (pixel << 8) | (int) Math.round(255 * Math.max(0, Math.min(1, v)));
                }
                out[y * width + x] = pixel;
            }
        }
        return out;
    }
}
