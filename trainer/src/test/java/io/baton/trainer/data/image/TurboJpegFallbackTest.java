package io.baton.trainer.data.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM where libjpeg-turbo's natives cannot load (JavaCPP told to look for another platform's, as on an OS or
 * architecture the jars do not cover) decodes with the JDK reader: the same pixels, one warning naming the reason.
 */
class TurboJpegFallbackTest
{
    @Test
    void shouldFallBackToTheJdkReaderWithOneWarningWhereTheNativesDoNotLoad() throws Exception
    {
        final Process child = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
            "-Dorg.bytedeco.javacpp.platform=linux-s390x", "-Dorg.apache.logging.log4j.level=WARN",
            "-cp", System.getProperty("java.class.path"), Child.class.getName())
            .redirectErrorStream(true).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        final String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("BACKENDS IMAGEIO IMAGEIO"), out);
        assertTrue(out.contains("SAME PIXELS true"), out);
        assertEquals(1, out.lines().filter(l -> l.contains("libjpeg-turbo natives")).count(), out);
        assertTrue(out.contains("did not load (") && out.contains("JDK reader"), out);
        assertTrue(out.contains("DCT SCALING REFUSED data.jpeg-dct-scaling"), out);
    }

    /** Runs in the child JVM. */
    public static final class Child
    {
        public static void main(final String[] args) throws IOException
        {
            final ImageDecoder first = new ImageDecoder(JpegBackend.TURBO);
            final ImageDecoder second = new ImageDecoder(JpegBackend.TURBO);
            System.out.println("BACKENDS " + first.backend() + " " + second.backend());
            final byte[] jpeg = TestImages.jpeg(PhotoLike.render(120, 90, 1), 90);
            System.out.println("SAME PIXELS "
                + Arrays.equals(first.decode(jpeg).rgb(), new ImageDecoder(JpegBackend.IMAGEIO).decode(jpeg).rgb()));
            try
            {
                new ImageDecoder(JpegBackend.TURBO, true);
                System.out.println("DCT SCALING ACCEPTED");
            }
            catch (final IllegalStateException ex)
            {
                System.out.println("DCT SCALING REFUSED " + ex.getMessage());
            }
        }
    }
}
