package io.baton.trainer.data.image;

import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.data.SplitMix64;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The training and evaluation transforms of the default configuration (data.augment.*, data.eval-resize-ratio,
 * data.normalise.*) reproduce, bit for bit, the floats Baton produced before augmentation became configurable: SHA-256 digests of the transform outputs for fixed (seed, epoch, sample) over
 * generated images (no JPEG codec involved), computed from the code as it was before the change.
 */
class DefaultAugmentationGoldenTest
{
    /** Sizes that exercise the random crop, and (the extreme aspect ratios) torchvision's central fallback. */
    private static final int[][] SIZES = {{500, 375}, {375, 500}, {64, 48}, {1000, 10}, {10, 700}, {33, 33}};

    static RgbImage image(final int width, final int height, final long seed)
    {
        final SplitMix64 random = new SplitMix64(seed);
        final byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final int i = (y * width + x) * 3;
                rgb[i] = (byte)(x * 255 / width);
                rgb[i + 1] = (byte)(y * 255 / height);
                rgb[i + 2] = (byte)random.nextInt(256);
            }
        }
        return new RgbImage(width, height, rgb);
    }

    static String digest(final ImageTransform transform, final long[] epochs, final long[] samples)
    {
        try
        {
            final MessageDigest sha = MessageDigest.getInstance("SHA-256");
            final float[] out = new float[transform.sampleLength()];
            final ByteBuffer bytes = ByteBuffer.allocate(out.length * 4);
            for (int s = 0; s < SIZES.length; s++)
            {
                final RgbImage image = image(SIZES[s][0], SIZES[s][1], s);
                for (final long epoch : epochs)
                {
                    for (final long sample : samples)
                    {
                        transform.apply(image, sample, epoch, out, 0);
                        bytes.clear();
                        for (final float f : out)
                        {
                            bytes.putInt(Float.floatToRawIntBits(f));
                        }
                        sha.update(bytes.array());
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest());
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** The transform spec of the reference configuration's defaults, as training builds it. */
    private static TransformSpec defaults()
    {
        final TransformSpec spec = DataSources.transformSpec(new ConfigLoader(ConfigDef.discover()).defaults());
        assertEquals(TransformSpec.IMAGENET, spec);
        return spec;
    }

    static ImageTransform train(final int size, final long seed)
    {
        return new TrainTransform(size, seed, defaults());
    }

    static ImageTransform val(final int size)
    {
        return new ValTransform(size, defaults());
    }

    @Test
    void shouldReproduceThePreConfigurableTrainingTransformBitForBit()
    {
        final long[] epochs = {0, 1, 7};
        final long[] samples = {0, 1, 2, 3, 1_281_166};
        assertEquals("1bdc39dc5a5b30b5a0a737f5e2e273cd802e2b66989de966e8b2af40304d8810",
            digest(train(224, 42), epochs, samples));
        assertEquals("a023f60093c3b73c0f3e2a1594f4c877101f30e7a425fa064c1203cdb3822b6f",
            digest(train(32, 7), epochs, samples));
    }

    @Test
    void shouldReproduceThePreConfigurableEvaluationTransformBitForBit()
    {
        final long[] epochs = {0};
        final long[] samples = {0};
        assertEquals("79958042e5fc22f0403f66b9d0a6c529a9a33e1963c852c29ce4d6034a478c72",
            digest(val(224), epochs, samples));
        assertEquals("1f1cabe220959aa2f4e50effe5a25a317df09ddc6be3ed7f4b52c3422e7c0b02",
            digest(val(32), epochs, samples));
        assertEquals("2bf19307d82f3c39e65abe13ad820e5f00d42d9b1852eb583e75515a8c221144",
            digest(val(20), epochs, samples));
    }
}
