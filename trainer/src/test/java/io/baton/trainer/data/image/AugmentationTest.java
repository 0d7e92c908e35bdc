package io.baton.trainer.data.image;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentationTest
{
    private static final int SAMPLES = 12;
    private static final List<byte[]> IMAGES = new ArrayList<>();

    private static final SampleSource SOURCE = new SampleSource()
    {
        @Override
        public long size()
        {
            return SAMPLES;
        }

        @Override
        public int label(final long sampleId)
        {
            return (int)(sampleId % 3);
        }

        @Override
        public byte[] bytes(final long sampleId)
        {
            return IMAGES.get((int)sampleId);
        }
    };

    @BeforeAll
    static void makeImages() throws IOException
    {
        for (int i = 0; i < SAMPLES; i++)
        {
            IMAGES.add(TestImages.jpeg(TestImages.picture(90 + 7 * i, 70 + 5 * i, i), 90));
        }
    }

    @Test
    void shouldProduceIdenticalPixelsForSameSeedEpochAndIdWhateverLoaderOrThread()
    {
        final long[] ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        final long[] reversed = {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
        final TrainTransform transform = new TrainTransform(32, 42);
        final Batch a;
        final Batch b;
        try (BatchLoader one = new BatchLoader(SOURCE, new ImageDecoder(JpegBackend.DEFAULT), transform, 1, 0);
            BatchLoader three = new BatchLoader(SOURCE, new ImageDecoder(JpegBackend.DEFAULT), transform, 3, 4))
        {
            a = one.load(5, ids);
            b = three.load(5, reversed);
        }
        final int len = 3 * 32 * 32;
        for (int i = 0; i < ids.length; i++)
        {
            final int j = ids.length - 1 - i;
            assertArrayEquals(java.util.Arrays.copyOfRange(a.features(), i * len, (i + 1) * len),
                java.util.Arrays.copyOfRange(b.features(), j * len, (j + 1) * len), "sample " + ids[i]);
            assertEquals(a.labels()[i], b.labels()[j]);
        }
    }

    @Test
    void shouldDrawDifferentCropsInDifferentEpochsAndForDifferentSeeds()
    {
        final TrainTransform transform = new TrainTransform(224, 42);
        int differentEpoch = 0;
        int differentSeed = 0;
        for (long id = 0; id < 20; id++)
        {
            final TrainTransform.Augmentation e0 = transform.augmentation(500, 375, id, 0);
            final TrainTransform.Augmentation e1 = transform.augmentation(500, 375, id, 1);
            final TrainTransform.Augmentation otherSeed = new TrainTransform(224, 43).augmentation(500, 375, id, 0);
            differentEpoch += e0.crop().equals(e1.crop()) ? 0 : 1;
            differentSeed += e0.crop().equals(otherSeed.crop()) ? 0 : 1;
            assertEquals(e0, transform.augmentation(500, 375, id, 0), "same key, same draw");
        }
        assertEquals(20, differentEpoch);
        assertEquals(20, differentSeed);
    }

    @Test
    void shouldKeepRandomCropsInsideTheImageWithinScaleAndRatioBoundsAndFlipAboutHalf()
    {
        final TrainTransform transform = new TrainTransform(224, 7);
        int flips = 0;
        for (long id = 0; id < 2000; id++)
        {
            final TrainTransform.Augmentation a = transform.augmentation(500, 375, id, 3);
            final CropBox c = a.crop();
            assertTrue(c.top() >= 0 && c.left() >= 0 && c.top() + c.height() <= 375 && c.left() + c.width() <= 500, c
                .toString());
            final double area = (double)c.width() * c.height() / (500.0 * 375);
            assertTrue(area > 0.07 && area <= 1.0, "area fraction " + area);
            final double ratio = (double)c.width() / c.height();
            assertTrue(ratio > 0.7 && ratio < 1.4, "ratio " + ratio);
            flips += a.flip() ? 1 : 0;
        }
        assertTrue(flips > 900 && flips < 1100, "flips " + flips);
    }

    @Test
    void shouldFallBackToCentralCropWhenNoAttemptFits()
    {
        // 1000x10: every attempt's height exceeds 10, so torchvision's fallback applies: ratio clamped to 4/3
        for (long id = 0; id < 5; id++)
        {
            assertEquals(new CropBox(0, 493, 10, 13), new TrainTransform(32, 1).augmentation(1000, 10, id, 0).crop());
        }
        assertEquals(new CropBox(493, 0, 13, 10), RandomResizedCrop.centralFallback(10, 1000));
        assertEquals(new CropBox(0, 0, 30, 30), RandomResizedCrop.centralFallback(30, 30));
    }

    @Test
    void shouldNormaliseAUniformImageToMeanAndStdExactly() throws IOException
    {
        final RgbImage gray = new RgbImage(50, 40, filled(50 * 40 * 3, (byte)128));
        for (final ImageTransform transform : List.of(new TrainTransform(16, 3), new ValTransform(16)))
        {
            final float[] out = new float[transform.sampleLength() + 5];
            transform.apply(gray, 4, 2, out, 5);
            for (int c = 0; c < 3; c++)
            {
                final float expected =
                    (128 / 255f - TransformSpec.IMAGENET.mean()[c]) / TransformSpec.IMAGENET.std()[c];
                for (int i = 0; i < 16 * 16; i++)
                {
                    assertEquals(expected, out[5 + c * 256 + i], 1e-5, transform + " channel " + c);
                }
            }
        }
    }

    @Test
    void shouldCenterCropValImagesDeterministicallyAndIndependentOfEpoch() throws IOException
    {
        final ValTransform transform = new ValTransform(224);
        assertEquals(256, transform.resizeTo());
        assertEquals(37, new ValTransform(32).resizeTo());
        final RgbImage image = new ImageDecoder(JpegBackend.DEFAULT).decode(IMAGES.get(3));
        final float[] a = new float[transform.sampleLength()];
        final float[] b = new float[transform.sampleLength()];
        transform.apply(image, 1, 0, a, 0);
        transform.apply(image, 9, 7, b, 0);
        assertArrayEquals(a, b);
    }

    @Test
    void shouldResampleAtScaleOneToTheSamePixels() throws IOException
    {
        final RgbImage image = new ImageDecoder(JpegBackend.DEFAULT).decode(IMAGES.get(0));
        final float[] same = Resampler.resample(image, 0, 0, image.width(), image.height(), image.width(),
            image.height());
        for (int i = 0; i < same.length; i++)
        {
            assertEquals(image.rgb()[i] & 0xFF, same[i], 1e-3);
        }
        final RgbImage half = Resampler.resize(image, image.width() / 2, image.height() / 2);
        assertEquals(image.width() / 2, half.width());
    }

    @Test
    void shouldStreamBatchesInOrderWithPrefetchAndShapes()
    {
        final List<long[]> batches = List.of(new long[] {0, 1, 2, 3}, new long[] {4, 5, 6, 7}, new long[] {8, 9, 10});
        try (BatchLoader loader = new BatchLoader(SOURCE, new ImageDecoder(JpegBackend.DEFAULT), new ValTransform(32),
            2, 2); BatchLoader.Stream stream = loader.stream(0, batches))
        {
            int n = 0;
            while (stream.hasNext())
            {
                final Batch batch = stream.next();
                assertArrayEquals(batches.get(n), batch.sampleIds());
                assertArrayEquals(new long[] {batches.get(n).length, 3, 32, 32}, batch.featuresArray().shape());
                assertArrayEquals(new long[] {batches.get(n).length, 3}, batch.oneHotLabels(3).shape());
                assertEquals(1.0, batch.oneHotLabels(3).getDouble(0, batch.labels()[0]));
                n++;
            }
            assertEquals(3, n);
            assertFalse(stream.hasNext());
        }
    }

    @Test
    void shouldFailABatchNamingTheSampleThatCannotBeDecoded()
    {
        final SampleSource broken = new SampleSource()
        {
            @Override
            public long size()
            {
                return 2;
            }

            @Override
            public int label(final long sampleId)
            {
                return 0;
            }

            @Override
            public byte[] bytes(final long sampleId)
            {
                return sampleId == 1 ? new byte[] {1, 2, 3, 4, 5} : IMAGES.get(0);
            }
        };
        try (BatchLoader loader = new BatchLoader(broken, new ImageDecoder(JpegBackend.DEFAULT), new ValTransform(8),
            2, 1))
        {
            final RuntimeException ex = assertThrows(RuntimeException.class, () -> loader.load(0, new long[] {0, 1}));
            assertTrue(ex.getMessage().contains("sample 1"), ex.getMessage());
            assertNotEquals(null, loader.load(0, new long[] {0}));
        }
    }

    private static byte[] filled(final int n, final byte value)
    {
        final byte[] out = new byte[n];
        java.util.Arrays.fill(out, value);
        return out;
    }
}
