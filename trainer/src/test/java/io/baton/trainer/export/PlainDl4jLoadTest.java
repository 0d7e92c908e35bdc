package io.baton.trainer.export;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.layers.ReplicaLayers;
import io.baton.trainer.model.ZeroPadShortcutBuiltIns;
import io.baton.trainer.syncbn.PlainBatchNormSwap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The issue "exported models load without Baton": an exported ResNet-20 with label smoothing and shortcut A is
 * restored by plain DL4J in another JVM whose class path holds no io.baton class (ND4J's native library cannot load
 * twice in one JVM, so not a second class loader), and reproduces its sidecar's output there. The same JVM fails to
 * load the raw training graph, naming a Baton class: the class path really lacks Baton; and it fails on what export
 * wrote before (only SyncBatchNorm replaced) and on a zip without the loss replaced, naming the class left.
 */
class PlainDl4jLoadTest
{
    private static final double BN_MEAN_LIMIT = 1000;
    private static final long CHILD_TIMEOUT_SECONDS = 300;

    @TempDir
    Path dir;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldRestoreAndRunTheExportedModelWithPlainDl4jAndNoBatonClass() throws Exception
    {
        final ComputationGraph training = InferenceFormTest.smoothedShortcutA(false);
        final Path exported = dir.resolve("exported.zip");
        final VerificationSample sample =
            ModelExporter.export(training, InferenceFormTest.INPUT, exported, 7, BN_MEAN_LIMIT);
        final Path raw = dir.resolve("training.zip");
        ModelSerializer.writeModel(training, raw.toFile(), false);
        // What export wrote before: only SyncBatchNorm (and Baton's convolution, added later) swapped; and that plus
        // the shortcut, loss still smoothed.
        final ComputationGraphConfiguration bnOnly = ReplicaLayers.toPlain(
            PlainBatchNormSwap.toPlainBatchNorm(training.getConfiguration()));
        final Path oldExport = write(bnOnly, dir.resolve("bn-only.zip"));
        final Path smoothed = write(ZeroPadShortcutBuiltIns.toBuiltIns(bnOnly, InferenceFormTest.INPUT),
            dir.resolve("smoothed.zip"));

        final List<String> lines = runPlain(exported, raw, oldExport, smoothed);
        final String report = String.join("\n", lines);
        assertEquals("BATON-CLASSES none", lines.get(0), report);
        final String loaded = line(lines, "LOAD exported.zip ");
        assertTrue(loaded.startsWith("LOAD exported.zip OK params=" + sample.params() + " values=8 "
            + "beyond_tolerance=0 "), report);
        final double maxAbsDiff = Double.parseDouble(loaded.substring(loaded.indexOf("max_abs_diff=") + 13));
        assertTrue(maxAbsDiff <= sample.absTolerance(), report);
        System.out.println("plain DL4J JVM:\n" + report);

        // Negative control: the training graph's zip names Baton's classes, which this class path cannot load.
        final String control = line(lines, "LOAD training.zip ");
        assertTrue(control.startsWith("LOAD training.zip FAILED "), report);
        assertTrue(control.contains("io.baton."), report);
        assertTrue(line(lines, "LOAD bn-only.zip ").startsWith("LOAD bn-only.zip FAILED "), report);
        assertTrue(line(lines, "LOAD bn-only.zip ").contains("io.baton.trainer.model.ZeroPadShortcutVertex"), report);
        assertTrue(line(lines, "LOAD smoothed.zip ").startsWith("LOAD smoothed.zip FAILED "), report);
        assertTrue(line(lines, "LOAD smoothed.zip ").contains("io.baton.trainer.optim.LossSmoothedMcxent"), report);
    }

    /** A zip of {@code conf} (parameters do not matter: these fail while reading the configuration). */
    private static Path write(final ComputationGraphConfiguration conf, final Path zip) throws IOException
    {
        final ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        ModelSerializer.writeModel(graph, zip.toFile(), false);
        return zip;
    }

    private static String line(final List<String> lines, final String prefix)
    {
        return lines.stream().filter(l -> l.startsWith(prefix)).findFirst()
            .orElseThrow(() -> new AssertionError("no line " + prefix + "in\n" + String.join("\n", lines)));
    }

    /** Runs LoadPlain.java on the zips in a fresh JVM without Baton; its output lines. */
    private List<String> runPlain(final Path... zips) throws IOException, InterruptedException
    {
        final Path source = dir.resolve("LoadPlain.java");
        try (InputStream in = PlainDl4jLoadTest.class.getResourceAsStream("LoadPlain.java"))
        {
            Files.copy(in, source);
        }
        final List<String> classPath = withoutBaton(testClassPath());
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add("-Xmx1g");
        for (final String property : new String[] {
            "org.bytedeco.javacpp.platform.extension", "org.eclipse.deeplearning4j.helpers.disable",
            "org.bytedeco.javacpp.cachedir"})
        {
            if (System.getProperty(property) != null)
            {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.add("-cp");
        command.add(String.join(File.pathSeparator, classPath));
        command.add(source.toString());
        for (final Path zip : zips)
        {
            command.add(zip.toString());
        }
        final Process child = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile()).start();
        final boolean finished = child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!finished)
        {
            child.destroyForcibly().waitFor();
        }
        final List<String> out = Files.readAllLines(dir.resolve("child.log"), StandardCharsets.UTF_8);
        assertTrue(finished, "plain DL4J JVM did not finish in " + CHILD_TIMEOUT_SECONDS + " s:\n"
            + String.join("\n", out));
        assertEquals(0, child.exitValue(), String.join("\n", out));
        final List<String> lines = out.stream().filter(l -> l.startsWith("BATON-CLASSES ") || l.startsWith("LOAD "))
            .toList();
        assertFalse(lines.isEmpty(), String.join("\n", out));
        return lines;
    }

    /** The test JVM's real class path (surefire may hide it behind a manifest-only jar). */
    private static List<String> testClassPath()
    {
        final String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(path.split(File.pathSeparator)).filter(e -> !e.isBlank()).toList();
    }

    /** The entries that hold no io.baton class: Baton's class directories and jars are dropped, DL4J's kept. */
    static List<String> withoutBaton(final List<String> entries)
    {
        final List<String> kept = new ArrayList<>();
        for (final String entry : entries)
        {
            final File file = new File(entry);
            if (file.isDirectory() ? !new File(file, "io/baton").exists() : !jarHoldsBaton(file))
            {
                kept.add(entry);
            }
        }
        assertTrue(kept.size() < entries.size(), "the test class path has Baton's classes: " + entries);
        return kept;
    }

    private static boolean jarHoldsBaton(final File jar)
    {
        if (!jar.isFile())
        {
            return false;
        }
        try (ZipFile zip = new ZipFile(jar))
        {
            return zip.stream().anyMatch(e -> e.getName().startsWith("io/baton/"));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read class path entry " + jar, ex);
        }
    }

    /** The JVM flags every Baton JVM gets (conf/jvm.properties, packaged by common): DL4J's need on Java 17. */
    private static List<String> jvmFlags() throws IOException
    {
        try (InputStream in = PlainDl4jLoadTest.class.getResourceAsStream("/io/baton/common/jvm.properties"))
        {
            if (in == null)
            {
                throw new IllegalStateException("no io/baton/common/jvm.properties on the test class path");
            }
            final Properties properties = new Properties();
            properties.load(in);
            return Arrays.asList(properties.getProperty("baton.jvm.flags").trim().split("\\s+"));
        }
    }
}
