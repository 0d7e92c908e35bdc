package io.baton.trainer.data.image;

import io.baton.common.config.BatonConfigException;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.data.DataSources;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigurableAugmentationTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    private TransformSpec spec(final String... overrides)
    {
        return DataSources.transformSpec(loader.load(null, List.of(overrides)));
    }

    @Test
    void shouldReadEveryKeyIntoTheSpec()
    {
        final TransformSpec spec = spec("data.augment.scale=[0.25, 0.9]", "data.augment.ratio=[0.5, 2.0]",
            "data.augment.pad-crop=4", "data.augment.flip=false", "data.eval-resize-ratio=null",
            "data.normalise.mean=[0.5, 0.5, 0.5]", "data.normalise.std=[0.25, 0.5, 1.0]");
        assertEquals(new TransformSpec(0.25, 0.9, 0.5, 2.0, 4, false, Double.NaN, new float[] {0.5f, 0.5f, 0.5f},
            new float[] {0.25f, 0.5f, 1f}), spec);
        assertFalse(spec.evalResizes());
    }

    @Test
    void shouldRefuseValuesOutsideTheirRangesNamingTheKey()
    {
        for (final String bad : List.of("data.augment.scale=[0.5, 0.1]", "data.augment.scale=[0.0, 1.0]",
            "data.augment.scale=[0.1]", "data.augment.ratio=[2.0, 1.0]", "data.augment.pad-crop=-1",
            "data.eval-resize-ratio=0.5", "data.normalise.mean=[0.5, 0.5]", "data.normalise.std=[0.2, 0.0, 0.2]"))
        {
            final BatonConfigException ex = assertThrows(BatonConfigException.class,
                () -> loader.load(null, List.of(bad)), bad);
            assertTrue(ex.getMessage().contains(bad.substring(0, bad.indexOf('='))), ex.getMessage());
        }
    }

    @Test
    void shouldKeepEveryAugmentationKeyInTheTrajectoryHash()
    {
        final String base = loader.defaults().trajectoryHash();
        for (final String changed : List.of("data.augment.scale=[0.35, 1.0]", "data.augment.ratio=[0.8, 1.25]",
            "data.augment.pad-crop=4", "data.augment.flip=false", "data.eval-resize-ratio=null",
            "data.normalise.mean=[0.5, 0.5, 0.5]", "data.normalise.std=[0.5, 0.5, 0.5]"))
        {
            assertNotEquals(base, loader.load(null, List.of(changed)).trajectoryHash(), changed);
        }
    }

    @Test
    void shouldDrawCropsInsideTheConfiguredScaleAndRatio()
    {
        final TransformSpec spec = spec("data.augment.scale=[0.5, 0.6]", "data.augment.ratio=[1.0, 1.0]");
        final TrainTransform transform = new TrainTransform(32, 9, spec);
        for (long id = 0; id < 200; id++)
        {
            final CropBox crop = transform.augmentation(400, 300, id, 2).crop();
            final double area = (double)crop.width() * crop.height() / (400 * 300);
            assertTrue(area > 0.49 && area < 0.61, "area " + area + " of " + crop);
            assertTrue(Math.abs(crop.width() - crop.height()) <= 1, crop.toString());
        }
    }

    @Test
    void shouldPadAndCropWithinThePaddingAsAPureFunctionOfSeedEpochAndSample()
    {
        final TransformSpec spec = spec("data.augment.pad-crop=4");
        final TrainTransform transform = new TrainTransform(32, 5, spec);
        final RgbImage image = DefaultAugmentationGoldenTest.image(32, 32, 1);
        boolean sawShift = false;
        for (long id = 0; id < 50; id++)
        {
            final TrainTransform.Augmentation a = transform.augmentation(32, 32, id, 1);
            assertTrue(a.crop().top() >= -4 && a.crop().top() <= 4 && a.crop().left() >= -4 && a.crop().left() <= 4);
            assertEquals(32, a.crop().width());
            sawShift |= a.crop().top() != 0 || a.crop().left() != 0;
            final float[] once = new float[3 * 32 * 32];
            final float[] again = new float[3 * 32 * 32];
            transform.apply(image, id, 1, once, 0);
            new TrainTransform(32, 5, spec).apply(image, id, 1, again, 0);
            assertArrayEquals(once, again);
        }
        assertTrue(sawShift);
    }

    @Test
    void shouldFillThePaddingWithBlackAndKeepTheImageElsewhere()
    {
        final TransformSpec spec = spec("data.augment.pad-crop=4", "data.augment.flip=false",
            "data.normalise.mean=[0.0, 0.0, 0.0]", "data.normalise.std=[1.0, 1.0, 1.0]");
        final TrainTransform transform = new TrainTransform(16, 3, spec);
        final RgbImage image = DefaultAugmentationGoldenTest.image(16, 16, 2);
        final float[] out = new float[3 * 16 * 16];
        for (long id = 0; id < 20; id++)
        {
            final CropBox crop = transform.augmentation(16, 16, id, 0).crop();
            transform.apply(image, id, 0, out, 0);
            for (int y = 0; y < 16; y++)
            {
                for (int x = 0; x < 16; x++)
                {
                    final int sy = y + crop.top();
                    final int sx = x + crop.left();
                    final boolean inside = sy >= 0 && sy < 16 && sx >= 0 && sx < 16;
                    for (int c = 0; c < 3; c++)
                    {
                        final float expected = inside ? image.sample(sx, sy, c) / 255f : 0f;
                        assertEquals(expected, out[c * 256 + y * 16 + x], 1e-6, "id " + id + " (" + x + "," + y + ")");
                    }
                }
            }
        }
    }

    @Test
    void shouldNeverFlipWhenFlipIsOff()
    {
        final TrainTransform transform = new TrainTransform(32, 11, spec("data.augment.flip=false"));
        for (long id = 0; id < 100; id++)
        {
            assertFalse(transform.augmentation(300, 200, id, 0).flip());
        }
    }

    @Test
    void shouldResizeTheWholeImageForEvaluationWithoutARatio()
    {
        final TransformSpec none = spec("data.eval-resize-ratio=null", "data.normalise.mean=[0.0, 0.0, 0.0]",
            "data.normalise.std=[1.0, 1.0, 1.0]");
        final RgbImage image = DefaultAugmentationGoldenTest.image(16, 16, 3);
        final float[] out = new float[3 * 16 * 16];
        new ValTransform(16, none).apply(image, 0, 0, out, 0);
        for (int c = 0; c < 3; c++)
        {
            assertEquals(image.sample(5, 7, c) / 255f, out[c * 256 + 7 * 16 + 5], 1e-6);
        }
        assertEquals(16, new ValTransform(16, none).resizeTo());
        assertEquals(40, new ValTransform(32, spec("data.eval-resize-ratio=1.25")).resizeTo());
    }

    @Test
    void shouldNormaliseWithTheConfiguredMeanAndStd()
    {
        final TransformSpec spec = spec("data.normalise.mean=[0.5, 0.25, 0.0]", "data.normalise.std=[0.5, 0.25, 2.0]",
            "data.eval-resize-ratio=null");
        final byte[] rgb = new byte[4 * 4 * 3];
        java.util.Arrays.fill(rgb, (byte)255);
        final float[] out = new float[3 * 4 * 4];
        new ValTransform(4, spec).apply(new RgbImage(4, 4, rgb), 0, 0, out, 0);
        assertEquals(1f, out[0], 1e-6);
        assertEquals(3f, out[16], 1e-6);
        assertEquals(0.5f, out[32], 1e-6);
    }
}
