package io.baton.coordinator.spark;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runs the {@code baton} CLI as a separate driver JVM against a real multi-JVM Spark: {@code local-cluster[W,1,M]}
 * starts a master and W workers inside the driver, and each worker launches its executor as its own JVM. Spark
 * builds executor class paths from {@code $SPARK_HOME/jars}, so this makes a SPARK_HOME whose {@code jars/} links
 * every jar of the test class path, and adds the module class directories with {@code spark.executor.extraClassPath}
 * (PLATFORM.md: local-cluster from Maven jars).
 */
public final class LocalCluster
{
    private LocalCluster()
    {
    }

    /** The master URL of W one-core workers with {@code memoryMb} each. */
    public static String master(final int workers, final int memoryMb)
    {
        return "local-cluster[" + workers + ",1," + memoryMb + "]";
    }

    /** A process builder for {@code baton <args>} in a fresh driver JVM, output merged into one stream. */
    public static ProcessBuilder cli(final Path work, final String... args)
    {
        return java(work, "io.baton.coordinator.cli.BatonCli", args);
    }

    /**
     * A process builder for {@code mainClass <args>} (a class of the test class path) in a fresh driver JVM with
     * Baton's JVM flags, the arrangement local-cluster needs, and output merged into one stream.
     */
    public static ProcessBuilder java(final Path work, final String mainClass, final String... args)
    {
        final List<String> entries = classPath();
        final Path sparkHome = sparkHome(work.resolve("spark-home"));
        final String directories = classDirectories();
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(SparkContexts.jvmFlags().split(" ")));
        command.add("-Xmx1g");
        command.add("-Dspark.executor.extraClassPath=" + directories);
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
        command.add(String.join(File.pathSeparator, entries));
        command.add(mainClass);
        command.addAll(Arrays.asList(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).directory(work.toFile());
        builder.environment().put("SPARK_HOME", sparkHome.toString());
        builder.environment().put("SPARK_SCALA_VERSION", "2.12");
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return builder;
    }

    /** The test JVM's real class path (surefire may hide it behind a manifest-only jar). */
    public static List<String> classPath()
    {
        final String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(path.split(File.pathSeparator)).filter(e -> !e.isBlank()).collect(Collectors.toList());
    }

    /** The class directories of the test class path (module target/classes), for spark.executor.extraClassPath. */
    public static String classDirectories()
    {
        return classPath().stream().filter(e -> new File(e).isDirectory()).collect(Collectors.joining(File.pathSeparator));
    }

    /** A SPARK_HOME whose jars/ links every jar of the test class path. */
    public static Path sparkHome(final Path home)
    {
        return sparkHome(home, classPath());
    }

    /** A SPARK_HOME whose jars/ links every jar of {@code entries}. */
    public static Path sparkHome(final Path home, final List<String> entries)
    {
        try
        {
            final Path jars = Files.createDirectories(home.resolve("jars"));
            for (final String entry : entries)
            {
                final Path source = Path.of(entry);
                if (Files.isRegularFile(source) && entry.endsWith(".jar"))
                {
                    final Path link = jars.resolve(source.getFileName());
                    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    {
                        Files.createSymbolicLink(link, source.toAbsolutePath());
                    }
                }
            }
            return home;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot build SPARK_HOME at " + home, ex);
        }
    }
}
