package io.baton.trainer.data.image;

import org.junit.jupiter.api.Test;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TurboJpegTest
{
    private static final ImageDecoder TURBO = new ImageDecoder(JpegBackend.TURBO);
    private static final ImageDecoder JDK = new ImageDecoder(JpegBackend.IMAGEIO);

    @Test
    void shouldLoadTheLibjpegTurboNativesOnThisPlatform()
    {
        assertEquals(null, TurboJpeg.unavailableReason());
        assertEquals(JpegBackend.TURBO, TURBO.backend());
    }

    @Test
    void shouldDecodeBaselineAndProgressiveJpegsToExactlyTheJdkReadersPixels() throws IOException
    {
        for (final boolean progressive : new boolean[] {false, true})
        {
            final long[] sum = new long[3];
            final int[] max = new int[3];
            long pixels = 0;
            for (int seed = 0; seed < 8; seed++)
            {
                final byte[] jpeg = jpeg(PhotoLike.render(400, 350, seed), 90, progressive);
                final RgbImage turbo = TURBO.decode(jpeg);
                final RgbImage jdk = JDK.decode(jpeg);
                assertEquals(jdk.width(), turbo.width());
                assertEquals(jdk.height(), turbo.height());
                for (int i = 0; i < jdk.rgb().length; i++)
                {
                    final int d = Math.abs((turbo.rgb()[i] & 0xFF) - (jdk.rgb()[i] & 0xFF));
                    sum[i % 3] += d;
                    max[i % 3] = Math.max(max[i % 3], d);
                }
                pixels += jdk.width() * (long)jdk.height();
            }
            System.out.printf("turbo vs JDK progressive=%s: max abs R %d G %d B %d, mean abs R %.5f G %.5f B %.5f%n",
                progressive, max[0], max[1], max[2], sum[0] / (double)pixels, sum[1] / (double)pixels,
                sum[2] / (double)pixels);
            for (int c = 0; c < 3; c++)
            {
                assertEquals(0, max[c], "channel " + c + " max abs difference");
            }
        }
    }

    @Test
    void shouldMatchTheJdkReaderAtEveryChromaSubsamplingByRouting440ToIt() throws IOException
    {
        // luma sampling factors: 4:4:4, 4:2:2, 4:2:0, 4:4:0 (chroma 1x1)
        final int[][] factors = {{1, 1}, {2, 1}, {2, 2}, {1, 2}};
        for (final int[] f : factors)
        {
            final byte[] jpeg = jpegSampled(PhotoLike.render(400, 350, 7), 90, f[0], f[1]);
            final JpegHeader header = JpegHeader.parse(jpeg);
            assertEquals(f[0] << 4 | f[1], header.sampling()[0]);
            final RgbImage jdk = JDK.decode(jpeg);
            final int[] diff = difference(TurboJpeg.decode(jpeg, 1, true), jdk);
            System.out.printf("libjpeg-turbo vs JDK, luma sampling %dx%d: max abs %d, mean abs %.5f%n", f[0], f[1],
                diff[0], diff[1] / (double)jdk.rgb().length);
            final boolean routed = f[0] == 1 && f[1] == 2;
            assertEquals(!routed, header.decodesAsTheJdkReader());
            if (!routed)
            {
                assertEquals(0, diff[0], "libjpeg-turbo equals the JDK reader at " + f[0] + "x" + f[1]);
            }
            assertArrayEquals(jdk.rgb(), TURBO.decode(jpeg).rgb(), "TURBO backend at " + f[0] + "x" + f[1]);
        }
    }

    /** {max abs, sum abs} over all samples. */
    private static int[] difference(final RgbImage a, final RgbImage b)
    {
        int max = 0;
        int sum = 0;
        for (int i = 0; i < a.rgb().length; i++)
        {
            final int d = Math.abs((a.rgb()[i] & 0xFF) - (b.rgb()[i] & 0xFF));
            max = Math.max(max, d);
            sum += d;
        }
        return new int[] {max, sum};
    }

    static byte[] jpegSampled(final BufferedImage image, final int quality, final int h, final int v)
        throws IOException
    {
        final ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        final ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality / 100f);
        final javax.imageio.metadata.IIOMetadata meta = writer.getDefaultImageMetadata(
            new javax.imageio.ImageTypeSpecifier(image), param);
        final String format = "javax_imageio_jpeg_image_1.0";
        final org.w3c.dom.Node root = meta.getAsTree(format);
        final org.w3c.dom.NodeList specs = ((javax.imageio.metadata.IIOMetadataNode)root)
            .getElementsByTagName("componentSpec");
        final javax.imageio.metadata.IIOMetadataNode luma = (javax.imageio.metadata.IIOMetadataNode)specs.item(0);
        luma.setAttribute("HsamplingFactor", Integer.toString(h));
        luma.setAttribute("VsamplingFactor", Integer.toString(v));
        meta.setFromTree(format, root);
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out))
        {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(image, null, meta), param);
        }
        finally
        {
            writer.dispose();
        }
        return out.toByteArray();
    }

    @Test
    void shouldDecodeGrayscaleToExactlyTheJdkReadersPixels() throws IOException
    {
        final byte[] gray = TestImages.jpeg(TestImages.gray(333, 211), 90);
        assertEquals(1, JpegHeader.parse(gray).components());
        assertTrue(JpegHeader.parse(gray).decodesAsTheJdkReader());
        assertArrayEquals(JDK.decode(gray).rgb(), TurboJpeg.decode(gray, 1, true).rgb());
    }

    @Test
    void shouldDecodeCmykThroughTheJdkPathToTheSamePixels() throws IOException
    {
        final byte[] cmyk = TestImages.cmykJpeg(32, 24, new int[] {255, 0, 0, 255});
        assertEquals(4, JpegHeader.parse(cmyk).components());
        assertFalse(JpegHeader.parse(cmyk).decodesAsTheJdkReader());
        assertArrayEquals(JDK.decode(cmyk).rgb(), TURBO.decode(cmyk).rgb());
    }

    @Test
    void shouldRejectTruncatedJpegInStrictModeAndDecodeItLeniently() throws IOException
    {
        final byte[] jpeg = jpeg(PhotoLike.render(200, 150, 3), 90, false);
        final byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        final IOException strict = assertThrows(IOException.class, () -> TURBO.decodeStrict(truncated));
        assertTrue(strict.getMessage().contains("damaged image"), strict.getMessage());
        final RgbImage lenient = TURBO.decode(truncated);
        assertEquals(200, lenient.width());
        assertEquals(150, lenient.height());
        final RgbImage jdk = JDK.decode(truncated);
        // the decoded top half equals the JDK's best effort within a level
        for (int i = 0; i < 200 * 40 * 3; i++)
        {
            assertTrue(Math.abs((lenient.rgb()[i] & 0xFF) - (jdk.rgb()[i] & 0xFF)) <= 1, "sample " + i);
        }
    }

    @Test
    void shouldHandAJpegTruncatedInsideItsHeaderToTheJdkReaderWhichRefusesIt() throws IOException
    {
        final byte[] jpeg = jpeg(PhotoLike.render(64, 48, 4), 90, false);
        final byte[] headerOnly = Arrays.copyOf(jpeg, 60);
        assertEquals(null, JpegHeader.parse(headerOnly));
        final IOException turbo = assertThrows(IOException.class, () -> TURBO.decodeStrict(headerOnly));
        final IOException jdk = assertThrows(IOException.class, () -> JDK.decodeStrict(headerOnly));
        assertEquals(jdk.getMessage(), turbo.getMessage());
    }

    @Test
    void shouldScaleByOneOverTwoFourAndEightInTheDctDomain() throws IOException
    {
        final byte[] jpeg = jpeg(PhotoLike.render(401, 351, 5), 90, false);
        final ImageDecoder scaling = new ImageDecoder(JpegBackend.TURBO, true);
        assertArrayEquals(new int[] {401, 351}, scaling.reducibleSize(jpeg));
        final RgbImage full = JDK.decode(jpeg);
        for (final int r : new int[] {2, 4, 8})
        {
            final RgbImage reduced = scaling.decodeReduced(jpeg, r);
            assertEquals((401 + r - 1) / r, reduced.width());
            assertEquals((351 + r - 1) / r, reduced.height());
            // close to the mean of the r x r block it stands for (smooth content: a few levels)
            double err = 0;
            int n = 0;
            for (int y = 0; y + 1 < full.height() / r; y++)
            {
                for (int x = 0; x + 1 < full.width() / r; x++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        double mean = 0;
                        for (int dy = 0; dy < r; dy++)
                        {
                            for (int dx = 0; dx < r; dx++)
                            {
                                mean += full.sample(x * r + dx, y * r + dy, c);
                            }
                        }
                        err += Math.abs(mean / (r * r) - reduced.sample(x, y, c));
                        n++;
                    }
                }
            }
            assertTrue(err / n < 12, "1/" + r + ": mean abs difference from block means " + err / n);
        }
    }

    static byte[] jpeg(final BufferedImage image, final int quality, final boolean progressive) throws IOException
    {
        final ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out))
        {
            final ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
            if (progressive)
            {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            writer.setOutput(stream);
            writer.write(null, new IIOImage(image, null, null), param);
        }
        finally
        {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
