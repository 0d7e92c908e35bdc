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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TurboJpegTest
{
    /** The default: the host's libjpeg-turbo 2 through TurboJPEG (Debian's libturbojpeg-java, installed by .ci/run). */
    private static final ImageDecoder TURBO = new ImageDecoder(JpegBackend.TURBO);
    /** TURBO with no TurboJPEG binding: Leptonica's bundled libjpeg-turbo 1.5.3. */
    private static final ImageDecoder LEPTONICA = new ImageDecoder(JpegBackend.TURBO, false, "/nonexistent/turbojpeg.jar");
    private static final ImageDecoder JDK = new ImageDecoder(JpegBackend.IMAGEIO);
    private static final List<ImageDecoder> TURBOS = List.of(TURBO, LEPTONICA);

    @Test
    void shouldLoadTheLibjpegTurboNativesOnThisPlatform()
    {
        assertEquals(null, TurboJpeg.unavailableReason());
        assertEquals(JpegBackend.TURBO, TURBO.backend());
        assertEquals(JpegBackend.TURBO, LEPTONICA.backend());
        assertTrue(LEPTONICA.turboLibrary().startsWith("libjpeg-turbo 1.5.3"), LEPTONICA.turboLibrary());
    }

    @Test
    void shouldDecodeThroughTheHostsLibjpegTurbo2WhereLibturbojpegJavaIsInstalled()
    {
        final Object system = SystemTurboJpeg.load(SystemTurboJpeg.DEBIAN_JAR);
        assertTrue(system instanceof SystemTurboJpeg, "the host's libjpeg-turbo did not load (" + system + "): "
            + "install the Debian/Ubuntu package libturbojpeg-java (.ci/run does)");
        assertTrue(TURBO.turboLibrary().startsWith("libjpeg-turbo 2"), TURBO.turboLibrary());
    }

    @Test
    void shouldDecodeBaselineAndProgressiveJpegsToExactlyTheJdkReadersPixels() throws IOException
    {
        for (final ImageDecoder decoder : TURBOS)
        {
            baselineAndProgressiveAsTheJdk(decoder);
        }
    }

    private static void baselineAndProgressiveAsTheJdk(final ImageDecoder decoder) throws IOException
    {
        for (final boolean progressive : new boolean[] {false, true})
        {
            final long[] sum = new long[3];
            final int[] max = new int[3];
            long pixels = 0;
            for (int seed = 0; seed < 8; seed++)
            {
                final byte[] jpeg = jpeg(PhotoLike.render(400, 350, seed), 90, progressive);
                final RgbImage turbo = decoder.decode(jpeg);
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
            System.out.printf("%s vs JDK progressive=%s: max abs R %d G %d B %d, mean abs R %.5f G %.5f B %.5f%n",
                decoder.turboLibrary(), progressive, max[0], max[1], max[2], sum[0] / (double)pixels, sum[1] / (double)pixels,
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
            final boolean routed = f[0] == 1 && f[1] == 2;
            assertEquals(!routed, header.decodesAsTheJdkReader());
            final List<RgbImage> turbos = List.of(TurboJpeg.decode(jpeg, 1, true), system().decode(jpeg, 1, true));
            for (int t = 0; t < 2; t++)
            {
                final int[] diff = difference(turbos.get(t), jdk);
                System.out.printf("libjpeg-turbo %s vs JDK, luma sampling %dx%d: max abs %d, mean abs %.5f%n",
                    t == 0 ? "1.5.3" : "2", f[0], f[1], diff[0], diff[1] / (double)jdk.rgb().length);
                if (!routed)
                {
                    assertEquals(0, diff[0], "libjpeg-turbo equals the JDK reader at " + f[0] + "x" + f[1]);
                }
            }
            for (final ImageDecoder decoder : TURBOS)
            {
                assertArrayEquals(jdk.rgb(), decoder.decode(jpeg).rgb(), decoder.turboLibrary() + " at " + f[0] + "x"
                    + f[1]);
            }
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
        assertArrayEquals(JDK.decode(gray).rgb(), system().decode(gray, 1, true).rgb());
        final byte[] progressive = jpeg(TestImages.gray(333, 211), 90, true);
        for (final ImageDecoder decoder : TURBOS)
        {
            assertArrayEquals(JDK.decode(gray).rgb(), decoder.decode(gray).rgb(), decoder.turboLibrary());
            assertArrayEquals(JDK.decode(progressive).rgb(), decoder.decode(progressive).rgb(), decoder.turboLibrary());
        }
    }

    @Test
    void shouldScaleInTheDctDomainToExactlyLeptonicasLibjpegTurbo153Pixels() throws IOException
    {
        // data.jpeg-dct-scaling is a trajectory key: hosts with and without the system library must agree.
        final ImageDecoder system = new ImageDecoder(JpegBackend.TURBO, true);
        final ImageDecoder leptonica = new ImageDecoder(JpegBackend.TURBO, true, "/nonexistent/turbojpeg.jar");
        final List<byte[]> kinds = List.of(
            jpegSampled(PhotoLike.render(401, 351, 2), 90, 1, 1),
            jpegSampled(PhotoLike.render(401, 351, 3), 97, 2, 1),
            jpegSampled(PhotoLike.render(401, 351, 4), 75, 2, 2),
            jpeg(PhotoLike.render(403, 349, 5), 90, true),
            TestImages.jpeg(TestImages.gray(333, 211), 90));
        for (int k = 0; k < kinds.size(); k++)
        {
            for (final int r : new int[] {1, 2, 4, 8})
            {
                final RgbImage a = system.decodeReduced(kinds.get(k), r);
                final RgbImage b = leptonica.decodeReduced(kinds.get(k), r);
                final int[] diff = difference(a, b);
                System.out.printf("libjpeg-turbo 2 vs 1.5.3, kind %d, 1/%d: %dx%d, max abs %d, mean abs %.5f%n", k, r,
                    a.width(), a.height(), diff[0], diff[1] / (double)a.rgb().length);
                assertEquals(b.width(), a.width());
                assertEquals(b.height(), a.height());
                assertArrayEquals(b.rgb(), a.rgb(), "kind " + k + " at 1/" + r);
            }
        }
    }

    private static SystemTurboJpeg system()
    {
        final Object system = SystemTurboJpeg.load(SystemTurboJpeg.DEBIAN_JAR);
        assertTrue(system instanceof SystemTurboJpeg, "install libturbojpeg-java: " + system);
        return (SystemTurboJpeg)system;
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
        for (final ImageDecoder decoder : TURBOS)
        {
            truncated(decoder);
        }
    }

    private static void truncated(final ImageDecoder TURBO) throws IOException
    {
        final byte[] jpeg = jpeg(PhotoLike.render(200, 150, 3), 90, false);
        final byte[] truncated = Arrays.copyOf(jpeg, jpeg.length / 2);
        final IOException strict = assertThrows(IOException.class, () -> TURBO.decodeStrict(truncated));
        assertTrue(strict.getMessage().contains("damaged image"), TURBO.turboLibrary() + ": " + strict.getMessage());
        final RgbImage lenient = TURBO.decode(truncated);
        assertEquals(200, lenient.width());
        assertEquals(150, lenient.height());
        final RgbImage jdk = JDK.decode(truncated);
        // the decoded top half equals the JDK's best effort within a level
        for (int i = 0; i < 200 * 40 * 3; i++)
        {
            assertTrue(Math.abs((lenient.rgb()[i] & 0xFF) - (jdk.rgb()[i] & 0xFF)) <= 1,
                TURBO.turboLibrary() + " sample " + i);
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
