package io.baton.coordinator.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real YARN on 127.0.0.1 for tests, modelled on Spark's own {@code YarnClusterSuite}: Hadoop's MiniYARNCluster (a
 * ResourceManager and one NodeManager in this JVM; containers are real processes the NodeManager launches), its
 * configuration written as {@code yarn-site.xml} into a directory that is the submitter's HADOOP_CONF_DIR and
 * YARN_CONF_DIR, and {@code spark-submit --master yarn} run as Spark's {@code SparkSubmit} in a child JVM.
 *
 * <p>Containers get the test class path: {@code spark.yarn.jars} names the jars of the SPARK_HOME that
 * {@link LocalCluster} builds with the {@code local:} scheme (they are on the NodeManager's host, so nothing is
 * uploaded), and the module class directories come in with {@code spark.driver/executor.extraClassPath}. The
 * ApplicationMaster gets Baton's JVM flags from the submitter ({@code spark.yarn.am.extraJavaOptions} in client mode,
 * {@code spark.driver.extraJavaOptions} in cluster mode, where the AM is the driver); the executors get them from
 * Baton's driver, as on any cluster.
 */
public final class MiniYarn implements AutoCloseable
{
    private static final Pattern APPLICATION = Pattern.compile("(application_\\d+_\\d+)");

    private final MiniYARNCluster cluster;
    private final Path work;
    private final Path confDir;
    private final Path log4j;

    private MiniYarn(final MiniYARNCluster cluster, final Path work, final Path confDir, final Path log4j)
    {
        this.cluster = cluster;
        this.work = work;
        this.confDir = confDir;
        this.log4j = log4j;
    }

    /**
     * Starts a ResourceManager and one NodeManager offering {@code nodeMemoryMb} and 4 vcores, with 256 MB minimum
     * allocations and the NodeManager's virtual and physical memory checks off (ND4J's off-heap memory is not a leak).
     */
    public static MiniYarn start(final Path work, final int nodeMemoryMb) throws IOException, InterruptedException
    {
        final YarnConfiguration conf = new YarnConfiguration();
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
        // MiniYARNCluster gives its NodeManagers this key's value (default 4096), not NM_PMEM_MB's.
        conf.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, nodeMemoryMb);
        conf.setInt(YarnConfiguration.NM_VCORES, 4);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.0f);
        // The CapacityScheduler's queues (Hadoop's distribution has them in capacity-scheduler.xml): one, all of it.
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        conf.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
        conf.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
        conf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        final MiniYARNCluster cluster = new MiniYARNCluster("baton-" + work.getFileName(), 1, 1, 1);
        try
        {
            cluster.init(conf);
            cluster.start();
            // The ResourceManager's real port is in the configuration only once it is bound.
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (cluster.getConfig().get(YarnConfiguration.RM_ADDRESS, ":0").endsWith(":0")
                && System.nanoTime() < deadline)
            {
                Thread.sleep(100);
            }
            final Path confDir = Files.createDirectories(work.resolve("hadoop-conf"));
            final Configuration written = new Configuration(cluster.getConfig());
            try (OutputStream out = Files.newOutputStream(confDir.resolve("yarn-site.xml")))
            {
                written.writeXml(out);
            }
            final Path log4j = Files.writeString(work.resolve("log4j2-yarn.properties"), String.join("\n",
                "status = warn",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} - %m%n",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.console.ref = console",
                "logger.baton.name = io.baton",
                "logger.baton.level = info",
                // 'Submitting application application_...' (the submitter), 'Started daemon with process name:
                // PID@HOST' and 'Running task' (each executor).
                "logger.client.name = org.apache.spark.deploy.yarn.Client",
                "logger.client.level = info",
                "logger.executor.name = org.apache.spark.executor",
                "logger.executor.level = info",
                ""), StandardCharsets.UTF_8);
            return new MiniYarn(cluster, work, confDir, log4j);
        }
        catch (final IOException | InterruptedException | RuntimeException ex)
        {
            cluster.stop();
            throw ex;
        }
    }

    /** The directory holding {@code yarn-site.xml}: HADOOP_CONF_DIR and YARN_CONF_DIR of a submitter. */
    public Path confDir()
    {
        return confDir;
    }

    /**
     * {@code spark-submit --master yarn --deploy-mode <deployMode> <sparkConf...> --class BatonCli app.jar
     * <batonArgs...>} in a child JVM (output merged into one stream). {@code sparkConf} are extra spark-submit
     * options, e.g. {@code --conf spark.executor.instances=2}.
     */
    public ProcessBuilder submit(final String deployMode, final List<String> sparkConf, final String... batonArgs)
    {
        // As on a real cluster, no YARN server classes: the shaded minicluster's AmIpFilter (relocated servlet API)
        // would win over hadoop-client-api's and fail the Spark UI ('AmIpFilter is not a javax.servlet.Filter').
        final List<String> classPath = LocalCluster.classPath().stream()
            .filter(e -> !new File(e).getName().startsWith("hadoop-client-minicluster"))
            .collect(Collectors.toList());
        final Path sparkHome = LocalCluster.sparkHome(work.resolve("spark-home-yarn"), classPath);
        final String directories = LocalCluster.classDirectories();
        final String javaHome = System.getProperty("java.home");
        final String logging = "-Dlog4j2.configurationFile=" + log4j.toUri();
        final List<String> args = new ArrayList<>(List.of(
            "--master", "yarn", "--deploy-mode", deployMode, "--class", "io.baton.coordinator.cli.BatonCli",
            "--conf", "spark.yarn.jars=local:" + sparkHome.resolve("jars") + "/*",
            "--conf", "spark.yarn.stagingDir=" + work.resolve("staging").toUri(),
            "--conf", "spark.driver.extraClassPath=" + directories,
            "--conf", "spark.executor.extraClassPath=" + directories,
            "--conf", "spark.yarn.appMasterEnv.JAVA_HOME=" + javaHome,
            "--conf", "spark.executorEnv.JAVA_HOME=" + javaHome,
            "--conf", "spark.yarn.appMasterEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
            "--conf", "spark.executor.extraJavaOptions=" + logging,
            "--conf", "spark.yarn.maxAppAttempts=1",
            // A cluster's Spark has hadoop-yarn-server-web-proxy for the UI's AmIpFilter; this class path has only
            // the shaded minicluster's copy (relocated servlet API), so the UI stays off here.
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.dynamicAllocation.enabled=false"));
        if ("cluster".equals(deployMode))
        {
            args.addAll(List.of("--conf", "spark.driver.extraJavaOptions=" + SparkContexts.executorJavaOptions()
                + " " + logging));
        }
        else
        {
            args.addAll(List.of("--conf", "spark.yarn.am.extraJavaOptions=" + SparkContexts.jvmFlags() + " "
                + logging));
        }
        args.addAll(sparkConf);
        args.add(appJar().toString());
        args.addAll(Arrays.asList(batonArgs));
        final ProcessBuilder builder = LocalCluster.java(work, "org.apache.spark.deploy.SparkSubmit",
            args.toArray(new String[0]));
        final List<String> command = builder.command();
        final int cp = command.indexOf("-cp");
        // spark-submit puts HADOOP_CONF_DIR on its class path: that is how the YARN client finds the ResourceManager.
        command.set(cp + 1, confDir + File.pathSeparator + String.join(File.pathSeparator, classPath));
        command.add(cp, logging);
        builder.environment().put("HADOOP_CONF_DIR", confDir.toString());
        builder.environment().put("YARN_CONF_DIR", confDir.toString());
        return builder;
    }

    /** The application id in the submitter's output ('Submitting application application_... to ...'). */
    public static String applicationId(final String submitterOutput)
    {
        final Matcher m = Pattern.compile("Submitting application (application_\\d+_\\d+)").matcher(submitterOutput);
        if (!m.find())
        {
            throw new AssertionError("no 'Submitting application' in the submitter's output:\n" + submitterOutput);
        }
        return m.group(1);
    }

    /** The container log directories of an application (one per container, the ApplicationMaster's first). */
    public List<Path> containerLogs(final String applicationId) throws IOException
    {
        final List<Path> out = new ArrayList<>();
        for (final String dir : cluster.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS))
        {
            final Path app = Path.of(dir.startsWith("file:") ? java.net.URI.create(dir).getPath() : dir)
                .resolve(applicationId);
            if (Files.isDirectory(app))
            {
                try (Stream<Path> containers = Files.list(app))
                {
                    out.addAll(containers.filter(Files::isDirectory).sorted().collect(Collectors.toList()));
                }
            }
        }
        if (out.isEmpty() && !APPLICATION.matcher(applicationId).matches())
        {
            throw new IllegalArgumentException("not an application id: " + applicationId);
        }
        return out;
    }

    /** stdout and stderr of one container, concatenated ("" for a file not there). */
    public static String output(final Path container)
    {
        final StringBuilder text = new StringBuilder();
        for (final String name : new String[] {"stdout", "stderr"})
        {
            final Path file = container.resolve(name);
            try
            {
                if (Files.exists(file))
                {
                    text.append(Files.readString(file, StandardCharsets.UTF_8));
                }
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
        return text.toString();
    }

    /** An empty jar as spark-submit's primary resource: the classes come from the class directories and jars. */
    private Path appJar()
    {
        final Path jar = work.resolve("baton-yarn-test-app.jar");
        if (!Files.exists(jar))
        {
            final Manifest manifest = new Manifest();
            manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest))
            {
                out.flush();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }
        return jar;
    }

    @Override
    public void close()
    {
        cluster.stop();
    }
}
