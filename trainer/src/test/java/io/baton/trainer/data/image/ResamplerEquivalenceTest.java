package io.baton.trainer.data.image;

import io.baton.trainer.data.SplitMix64;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * {@link Resampler} gives, bit for bit ({@link Float#floatToRawIntBits}), the floats of the resampler it replaced
 * ({@link ReferenceResampler}, the old code verbatim) on random images and rectangles: down- and up-sampling,
 * fractional origins, crops touching or crossing the edges, 1-pixel outputs and sources, odd sizes, rows enough to
 * wrap the ring of rows, and the shapes the training and evaluation transforms use; also into a reused array. The
 * default training trajectories depend on it ({@code DefaultAugmentationGoldenTest}).
 */
class ResamplerEquivalenceTest
{
    @Test
    void shouldMatchTheReferenceBitForBitOnRandomRectangles()
    {
        final SplitMix64 random = new SplitMix64(21);
        for (int trial = 0; trial < 3000; trial++)
        {
            final int width = 1 + random.nextInt(trial % 10 == 0 ? 300 : 40);
            final int height = 1 + random.nextInt(trial % 10 == 1 ? 300 : 40);
            final RgbImage image = randomImage(width, height, random);
            final double x0 = origin(width, random);
            final double y0 = origin(height, random);
            final double w = extent(width, x0, random);
            final double h = extent(height, y0, random);
            final int outWidth = outSize(random);
            final int outHeight = outSize(random);
            assertResamplesAlike(image, x0, y0, w, h, outWidth, outHeight);
        }
    }

    @Test
    void shouldMatchTheReferenceOnTheTransformsShapes()
    {
        final SplitMix64 random = new SplitMix64(7);
        // 400x350 (the benchmark's images) to 224 and 128 by RandomResizedCrop's crops; whole-image resizes; the
        // evaluation transform's resize-then-centre-crop; an extreme shrink (many taps) and 1-pixel sources
        final RgbImage photo = randomImage(400, 350, random);
        for (int i = 0; i < 60; i++)
        {
            final CropBox crop = RandomResizedCrop.sample(400, 350, random, 0.08, 1.0, 3.0 / 4, 4.0 / 3);
            assertResamplesAlike(photo, crop.left(), crop.top(), crop.width(), crop.height(), 224, 224);
            assertResamplesAlike(photo, crop.left() / 2.0, crop.top() / 2.0, crop.width() / 2.0,
                crop.height() / 2.0, 128, 128);
        }
        assertResamplesAlike(photo, 0, 0, 400, 350, 224, 224);
        assertResamplesAlike(photo, 0, 0, 400, 350, 400, 350);
        assertResamplesAlike(photo, 0, 0, 400, 350, 1, 1);
        assertResamplesAlike(photo, 0, 0, 400, 350, 800, 700);
        assertResamplesAlike(photo, 400 * 16 / 256.0 * 350 / 256, 0, 350 * 224 / 256.0, 350 * 224 / 256.0, 224, 224);
        assertResamplesAlike(randomImage(1, 1, random), 0, 0, 1, 1, 5, 3);
        assertResamplesAlike(randomImage(1, 9, random), 0, 0.5, 1, 7.25, 3, 2);
        assertResamplesAlike(randomImage(2000, 3, random), 0, 0, 2000, 3, 1, 2);
    }

    /** Negative control: the comparison sees a single output float moved by one ulp. */
    @Test
    void shouldCatchAOneUlpDifference()
    {
        final SplitMix64 random = new SplitMix64(3);
        final RgbImage image = randomImage(37, 29, random);
        final float[] expected = ReferenceResampler.resample(image, 1.5, 2.25, 30.5, 20, 17, 13);
        final float[] actual = Resampler.resample(image, 1.5, 2.25, 30.5, 20, 17, 13);
        assertNull(firstDifference(expected, actual));
        for (final int i : new int[] {0, 100, actual.length - 1})
        {
            final float[] changed = actual.clone();
            changed[i] = Math.nextUp(changed[i]);
            assertNotNull(firstDifference(expected, changed));
            changed[i] = Math.nextDown(actual[i]);
            assertNotNull(firstDifference(expected, changed));
        }
    }

    private static void assertResamplesAlike(final RgbImage image, final double x0, final double y0, final double w,
        final double h, final int outWidth, final int outHeight)
    {
        final float[] expected = ReferenceResampler.resample(image, x0, y0, w, h, outWidth, outHeight);
        final float[] actual = Resampler.resample(image, x0, y0, w, h, outWidth, outHeight);
        final String where = image.width() + "x" + image.height() + " rect (" + x0 + ", " + y0 + ", " + w + ", " + h
            + ") -> " + outWidth + "x" + outHeight;
        assertEquals(expected.length, actual.length, where);
        assertNull(firstDifference(expected, actual), where);
        // into a reused array, dirty from before: the same floats, and nothing written past them
        final float[] reused = new float[expected.length + 5];
        Arrays.fill(reused, Float.NaN);
        assertSame(reused, Resampler.resample(image, x0, y0, w, h, outWidth, outHeight, reused));
        assertNull(firstDifference(expected, reused), where);
        for (int i = expected.length; i < reused.length; i++)
        {
            assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(reused[i]), where);
        }
    }

    /** The first index whose raw bits differ, with both values, or null when all are identical. */
    private static String firstDifference(final float[] expected, final float[] actual)
    {
        for (int i = 0; i < expected.length; i++)
        {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i]))
            {
                return "index " + i + ": expected " + expected[i] + " got " + actual[i];
            }
        }
        return null;
    }

    private static RgbImage randomImage(final int width, final int height, final SplitMix64 random)
    {
        final byte[] rgb = new byte[width * height * 3];
        for (int i = 0; i < rgb.length; i++)
        {
            rgb[i] = (byte)random.nextInt(256);
        }
        // some flat and saturated stretches, where sums of equal values meet rounding ties
        Arrays.fill(rgb, 0, Math.min(rgb.length, 3 * width), (byte)255);
        return new RgbImage(width, height, rgb);
    }

    /** A source origin: 0, an integer, a fraction, the far edge, or (rarely) before the image. */
    private static double origin(final int size, final SplitMix64 random)
    {
        switch (random.nextInt(6))
        {
            case 0:
                return 0;
            case 1:
                return random.nextInt(size);
            case 2:
                return random.nextDouble() * size;
            case 3:
                return size - random.nextDouble() * Math.min(size, 3);
            case 4:
                return -random.nextDouble() * 2;
            default:
                return random.nextInt(4 * size) / 4.0;
        }
    }

    /** A source extent from the origin: to the edge, inside, tiny, or past the edge. */
    private static double extent(final int size, final double origin, final SplitMix64 random)
    {
        final double rest = Math.max(size - origin, 0.25);
        switch (random.nextInt(5))
        {
            case 0:
                return rest;
            case 1:
                return Math.max(0.25, random.nextDouble() * rest);
            case 2:
                return 0.25 + random.nextDouble();
            case 3:
                return rest + random.nextDouble() * 3;
            default:
                return Math.max(1, Math.floor(random.nextDouble() * rest));
        }
    }

    private static int outSize(final SplitMix64 random)
    {
        switch (random.nextInt(5))
        {
            case 0:
                return 1;
            case 1:
                return 1 + random.nextInt(8);
            case 2:
                return 224;
            default:
                return 1 + random.nextInt(150);
        }
    }
}
