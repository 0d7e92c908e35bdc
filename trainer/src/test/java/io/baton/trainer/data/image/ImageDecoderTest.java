package io.baton.trainer.data.image;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageDecoderTest
{
    @ParameterizedTest
    @EnumSource(JpegBackend.class)
    void shouldDecodeRgbJpegCloseToTheOriginalPixels(final JpegBackend backend) throws IOException
    {
        final RgbImage image = new ImageDecoder(backend).decode(TestImages.jpeg(TestImages.uniform(40, 30, 0x3080C0), 95));
        assertEquals(40, image.width());
        assertEquals(30, image.height());
        assertEquals(0x30, image.sample(20, 15, 0), 3);
        assertEquals(0x80, image.sample(20, 15, 1), 3);
        assertEquals(0xC0, image.sample(20, 15, 2), 3);
    }

    @ParameterizedTest
    @EnumSource(JpegBackend.class)
    void shouldReplicateGrayscaleJpegIntoThreeEqualChannels(final JpegBackend backend) throws IOException
    {
        final RgbImage image = new ImageDecoder(backend).decode(TestImages.jpeg(TestImages.gray(64, 48), 90));
        for (int i = 0; i < image.rgb().length; i += 3)
        {
            assertEquals(image.rgb()[i], image.rgb()[i + 1]);
            assertEquals(image.rgb()[i], image.rgb()[i + 2]);
        }
        assertTrue(image.sample(63, 47, 0) > image.sample(0, 0, 0) + 100, "gradient kept");
    }

    @ParameterizedTest
    @EnumSource(JpegBackend.class)
    void shouldConvertCmykJpegToRgb(final JpegBackend backend) throws IOException
    {
        // Adobe-inverted CMYK for pure red: C=0 (stored 255), M=Y=100% (stored 0), K=0 (stored 255)
        final byte[] cmyk = TestImages.cmykJpeg(32, 24, new int[] {255, 0, 0, 255});
        final RgbImage image = new ImageDecoder(backend).decode(cmyk);
        assertEquals(32, image.width());
        final int r = image.sample(16, 12, 0);
        final int g = image.sample(16, 12, 1);
        final int b = image.sample(16, 12, 2);
        assertTrue(r > 180 && g < 90 && b < 90, "expected red, got " + r + "," + g + "," + b);
    }

    @ParameterizedTest
    @EnumSource(JpegBackend.class)
    void shouldDecodePngWithAlphaDroppingAlpha(final JpegBackend backend) throws IOException
    {
        final java.awt.image.BufferedImage argb =
            new java.awt.image.BufferedImage(10, 8, java.awt.image.BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(3, 4, 0x80102030);
        final RgbImage image = new ImageDecoder(backend).decode(TestImages.png(argb));
        assertEquals(10, image.width());
        assertEquals(0x10, image.sample(3, 4, 0));
        assertEquals(0x20, image.sample(3, 4, 1));
        assertEquals(0x30, image.sample(3, 4, 2));
    }

    @ParameterizedTest
    @EnumSource(JpegBackend.class)
    void shouldRejectGarbageAndTruncatedJpegInStrictMode(final JpegBackend backend) throws IOException
    {
        final ImageDecoder decoder = new ImageDecoder(backend);
        final byte[] garbage = new byte[500];
        Arrays.fill(garbage, (byte)7);
        final IOException notImage = assertThrows(IOException.class, () -> decoder.decodeStrict(garbage));
        assertTrue(notImage.getMessage().contains("not an image"), notImage.getMessage());

        final byte[] jpeg = TestImages.jpeg(TestImages.picture(200, 150, 1), 90);
        final byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        assertThrows(IOException.class, () -> decoder.decodeStrict(truncated));
    }
}
