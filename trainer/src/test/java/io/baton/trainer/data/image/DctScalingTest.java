package io.baton.trainer.data.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DctScalingTest
{
    private static final int SIZE = 64;
    private static final TrainTransform TRANSFORM = new TrainTransform(SIZE, 2026);

    @Test
    void shouldNotOfferReductionWhenDctScalingIsOff() throws IOException
    {
        final byte[] jpeg = TurboJpegTest.jpeg(PhotoLike.render(640, 480, 1), 90, false);
        assertNull(new ImageDecoder(JpegBackend.TURBO).reducibleSize(jpeg));
        assertArrayEquals(new int[] {640, 480}, new ImageDecoder(JpegBackend.TURBO, true).reducibleSize(jpeg));
    }

    @Test
    void shouldRefuseDctScalingWithTheJdkReader()
    {
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> new ImageDecoder(JpegBackend.IMAGEIO, true));
        assertTrue(refused.getMessage().contains("data.jpeg-dct-scaling"), refused.getMessage());
    }

    @Test
    void shouldPickTheReductionFromImageSizeAndTheSamplesDrawsOnly()
    {
        int reduced = 0;
        for (long id = 0; id < 200; id++)
        {
            final int r = TRANSFORM.reduction(640, 480, id, 3);
            assertEquals(r, TRANSFORM.reduction(640, 480, id, 3));
            final CropBox crop = TRANSFORM.augmentation(640, 480, id, 3).crop();
            assertTrue(Math.min(crop.width(), crop.height()) >= r * SIZE, "crop " + crop + " reduced by " + r);
            assertTrue(r == 8 || Math.min(crop.width(), crop.height()) < 2 * r * SIZE, "largest factor taken");
            reduced += r > 1 ? 1 : 0;
        }
        assertTrue(reduced > 100, "most crops of a 640x480 image reduce for a 64 px output: " + reduced);
        assertEquals(1, new TrainTransform(SIZE, 2026, new TransformSpec(0.08, 1, 0.75, 4 / 3.0, 4, true,
            Double.NaN, new float[] {0, 0, 0}, new float[] {1, 1, 1})).reduction(640, 480, 0, 0), "pad-crop");
    }

    @Test
    void shouldGiveTheSameSamplesOnEveryThreadAndDecoderInstance() throws Exception
    {
        final byte[] jpeg = TurboJpegTest.jpeg(PhotoLike.render(640, 480, 2), 90, false);
        final float[] here = new float[TRANSFORM.sampleLength()];
        TRANSFORM.decodeAndApply(new ImageDecoder(JpegBackend.TURBO, true), jpeg, 7, 1, here, 0);
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final float[] there = CompletableFuture.supplyAsync(() ->
            {
                final float[] out = new float[TRANSFORM.sampleLength()];
                try
                {
                    TRANSFORM.decodeAndApply(new ImageDecoder(JpegBackend.TURBO, true), jpeg, 7, 1, out, 0);
                }
                catch (final IOException ex)
                {
                    throw new IllegalStateException(ex);
                }
                return out;
            }, pool).get();
            assertArrayEquals(here, there);
        }
        finally
        {
            pool.shutdown();
        }
    }

    @Test
    void shouldStayCloseToTheFullSizeDecodeAndResample() throws IOException
    {
        final ImageDecoder scaled = new ImageDecoder(JpegBackend.TURBO, true);
        final ImageDecoder full = new ImageDecoder(JpegBackend.TURBO);
        double sum = 0;
        long n = 0;
        int reducedSamples = 0;
        for (long id = 0; id < 16; id++)
        {
            final byte[] jpeg = TurboJpegTest.jpeg(PhotoLike.render(640, 480, id), 90, false);
            final float[] a = new float[TRANSFORM.sampleLength()];
            final float[] b = new float[TRANSFORM.sampleLength()];
            TRANSFORM.decodeAndApply(scaled, jpeg, id, 0, a, 0);
            TRANSFORM.decodeAndApply(full, jpeg, id, 0, b, 0);
            reducedSamples += TRANSFORM.reduction(640, 480, id, 0) > 1 ? 1 : 0;
            for (int i = 0; i < a.length; i++)
            {
                sum += Math.abs(a[i] - b[i]);
                n++;
            }
        }
        assertTrue(reducedSamples >= 8, "reduced samples " + reducedSamples);
        // normalised units: 1 level of 255 is ~0.017; the reduced path averages like a box filter
        final double mean = sum / n;
        System.out.printf("DCT-scaled vs full-size decode + augment, %d of 16 reduced: mean abs %.4f (normalised)%n",
            reducedSamples, mean);
        assertTrue(mean < 0.15, "mean abs difference " + mean);
    }
}
