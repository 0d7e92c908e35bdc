package io.baton.trainer.data.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * data.jpeg-decoder = turbo falls back from the host's libjpeg-turbo 2 (TurboJPEG) to Leptonica's bundled 1.5.3 to
 * the JDK reader: a JVM where neither loads (no TurboJPEG binding at data.turbojpeg-jar, and JavaCPP told to look for
 * another platform's natives, as on an OS or architecture the jars do not cover) decodes with the JDK reader, the
 * same pixels, one warning per missing library naming the reason.
 */
class TurboJpegFallbackTest
{
    private static final String MISSING_JAR = "/nonexistent/turbojpeg.jar";

    @Test
    void shouldFallBackToTheJdkReaderWithOneWarningWhereTheNativesDoNotLoad() throws Exception
    {
        final String out = child(true, MISSING_JAR);
        assertTrue(out.contains("BACKENDS IMAGEIO IMAGEIO"), out);
        assertEquals(1, out.lines().filter(l -> l.contains("WARN") && l.contains(MISSING_JAR)).count(), out);
        assertTrue(out.contains("SAME PIXELS true"), out);
        assertEquals(1, out.lines().filter(l -> l.contains("libjpeg-turbo natives")).count(), out);
        assertTrue(out.contains("did not load (") && out.contains("JDK reader"), out);
        assertTrue(out.contains("DCT SCALING REFUSED data.jpeg-dct-scaling"), out);
    }

    @Test
    void shouldFallBackToLeptonicasLibjpegTurboWithOneWarningWithoutTheTurboJpegBinding() throws Exception
    {
        final String out = child(false, MISSING_JAR);
        assertTrue(out.contains("BACKENDS TURBO TURBO"), out);
        assertTrue(out.contains("LIBRARY libjpeg-turbo 1.5.3"), out);
        assertTrue(out.contains("SAME PIXELS true"), out);
        final long warnings = out.lines().filter(l -> l.contains("WARN") && l.contains("libjpeg-turbo")).count();
        assertEquals(1, warnings, out);
        assertTrue(out.contains("no TurboJPEG binding at " + MISSING_JAR) && out.contains("libturbojpeg-java"), out);
        assertTrue(out.contains("DCT SCALING ACCEPTED"), out);
    }

    @Test
    void shouldDecodeThroughTheHostsLibjpegTurboWhereJavaCppHasNoNatives() throws Exception
    {
        final String out = child(true, SystemTurboJpeg.DEBIAN_JAR);
        assertTrue(out.contains("BACKENDS TURBO TURBO"), out);
        assertTrue(out.contains("LIBRARY libjpeg-turbo 2"), out);
        assertTrue(out.contains("SAME PIXELS true"), out);
        assertEquals(0, out.lines().filter(l -> l.contains("WARN")).count(), out);
        assertTrue(out.contains("DCT SCALING ACCEPTED"), out);
    }

    private static String child(final boolean noJavaCppNatives, final String jar) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m"));
        if (noJavaCppNatives)
        {
            command.add("-Dorg.bytedeco.javacpp.platform=linux-s390x");
        }
        command.addAll(List.of("-Dorg.apache.logging.log4j.level=WARN", "-cp", System.getProperty("java.class.path"),
            Child.class.getName(), jar));
        final Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        final String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), out);
        return out;
    }

    /** Runs in the child JVM. */
    public static final class Child
    {
        public static void main(final String[] args) throws IOException
        {
            final ImageDecoder first = new ImageDecoder(JpegBackend.TURBO, false, args[0]);
            final ImageDecoder second = new ImageDecoder(JpegBackend.TURBO, false, args[0]);
            System.out.println("BACKENDS " + first.backend() + " " + second.backend());
            System.out.println("LIBRARY " + first.turboLibrary());
            final byte[] jpeg = TestImages.jpeg(PhotoLike.render(120, 90, 1), 90);
            System.out.println("SAME PIXELS "
                + Arrays.equals(first.decode(jpeg).rgb(), new ImageDecoder(JpegBackend.IMAGEIO).decode(jpeg).rgb()));
            try
            {
                new ImageDecoder(JpegBackend.TURBO, true, args[0]);
                System.out.println("DCT SCALING ACCEPTED");
            }
            catch (final IllegalStateException ex)
            {
                System.out.println("DCT SCALING REFUSED " + ex.getMessage());
            }
        }
    }
}
