package io.baton.coordinator.deploy;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Baton's application (the coordinator's runtime class path, which the distribution's {@code app/} copies) carries no
 * Spark, Scala, Hadoop or logging-backend class: a cluster's own are the ones loaded. The list is written by the
 * build (maven-dependency-plugin, runtime scope); the scanner is shown to find such classes on the test class path,
 * where they are provided. Run without them, the CLI says so in one line with exit 2.
 */
class ApplicationClassPathTest
{
    private static final String[] PROVIDED_PACKAGES = {
        "org/apache/spark/", "scala/", "org/apache/hadoop/", "org/apache/logging/log4j/core/"};
    /**
     * Classes of another project's own in a provided package: dl4j-spark's TaskContextHelper (DL4J's, placed in
     * Spark's package to reach a package-private method; not a copy of Spark).
     */
    private static final String[] OWN_CLASSES_IN_PROVIDED_PACKAGES = {"org/apache/spark/TaskContextHelper"};

    private static List<String> applicationClassPath() throws IOException
    {
        final Path file = Path.of("target", "application-class-path.txt");
        assertTrue(Files.isRegularFile(file), "the build writes " + file.toAbsolutePath());
        return Arrays.stream(Files.readString(file).trim().split(File.pathSeparator)).filter(e -> !e.isBlank())
            .collect(Collectors.toList());
    }

    /** The entries of {@code jars} holding a class of a provided package, as "jar: first such class". */
    private static List<String> providedClassesIn(final List<String> entries) throws IOException
    {
        final List<String> found = new ArrayList<>();
        for (final String entry : entries)
        {
            if (!entry.endsWith(".jar") || !new File(entry).isFile())
            {
                continue;
            }
            try (JarFile jar = new JarFile(entry))
            {
                jar.stream().map(e -> e.getName())
                    .filter(name -> name.endsWith(".class") && Arrays.stream(PROVIDED_PACKAGES).anyMatch(name::startsWith)
                        && Arrays.stream(OWN_CLASSES_IN_PROVIDED_PACKAGES).noneMatch(name::startsWith))
                    .findFirst().ifPresent(name -> found.add(new File(entry).getName() + ": " + name));
            }
        }
        return found;
    }

    @Test
    void theApplicationCarriesNoSparkScalaHadoopOrLoggingBackend() throws IOException
    {
        final List<String> app = applicationClassPath();
        assertTrue(app.stream().anyMatch(e -> e.contains("nd4j-native")), "the list is the application's: " + app);
        assertEquals(List.of(), providedClassesIn(app));
        // The scanner does find them where they are (the test class path has the provided scope).
        final String test = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        final List<String> provided = providedClassesIn(Arrays.asList(test.split(File.pathSeparator)));
        assertTrue(provided.stream().anyMatch(e -> e.contains("org/apache/spark/"))
            && provided.stream().anyMatch(e -> e.contains("org/apache/hadoop/")), provided.toString());
    }

    @Test
    void theCliWithoutSparkSaysSoInOneLine() throws Exception
    {
        final List<String> classPath = new ArrayList<>(applicationClassPath());
        classPath.add(0, Path.of("target", "classes").toAbsolutePath().toString());
        final Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", String.join(File.pathSeparator, classPath), "io.baton.coordinator.cli.BatonCli", "config")
            .redirectErrorStream(true).start();
        final boolean ended = process.waitFor(60, TimeUnit.SECONDS);
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ended, output);
        assertEquals(2, process.exitValue(), output);
        assertTrue(output.startsWith("baton: Spark is not on the class path (org.apache.spark.SparkConf not found): "),
            output);
        assertEquals(1, output.trim().split("\n").length, "one line: " + output);
    }
}
