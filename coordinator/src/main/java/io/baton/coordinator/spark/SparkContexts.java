package io.baton.coordinator.spark;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.trainer.TrainerKeys;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Creates the Spark context Baton's driver uses: the master from {@code cluster.master} (default
 * {@code local[train.replicas]} in this JVM), executors started with Baton's JVM flags, GPU resource requests when
 * {@code cluster.gpus-per-task} is 1, and barrier-stage checks that fail fast instead of waiting for slots.
 */
public final class SparkContexts
{
    /** How long a standalone master may take to accept the probe's connection. */
    private static final Duration MASTER_PROBE_TIMEOUT = Duration.ofSeconds(5);

    private SparkContexts()
    {
    }

    /** The master URL a configuration resolves to. */
    public static String master(final BatonConfig config)
    {
        final String configured = config.get(CoordinatorKeys.CLUSTER_MASTER);
        return configured != null ? configured : "local[" + config.get(TrainerKeys.TRAIN_REPLICAS) + "]";
    }

    /**
     * Settings Baton's recovery needs, with why: Baton relaunches failed stages itself from the newest checkpoint
     * ({@code recovery.*}), so Spark must hand a failure back at once instead of retrying a replica or the stage, and
     * its barrier check must fail fast (Baton checks slots itself first). A user's value that contradicts one is
     * refused, not overridden.
     */
    static final Map<String, String[]> REQUIRED = Map.of(
        "spark.task.maxFailures", new String[] {"1", "a failed replica fails the stage; Baton relaunches it from "
            + "the newest checkpoint (recovery.max-restarts)"},
        "spark.stage.maxConsecutiveAttempts", new String[] {"1", "Baton relaunches failed stages itself "
            + "(recovery.max-restarts)"},
        "spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", new String[] {"1", "Baton checks the slots "
            + "before a stage (cluster.slot-wait); Spark's own check must then fail at once"});

    /** The Spark configuration of a job: the user's (spark-submit's --conf, system properties) plus Baton's needs. */
    public static SparkConf conf(final BatonConfig config)
    {
        return conf(config, new SparkConf());
    }

    /**
     * {@code base} (the user's settings) with what Baton needs added: its recovery settings ({@link #REQUIRED}; a
     * contradicting user value is refused naming both), its JVM flags appended to the executors' own Java options,
     * its malloc settings where the user set none, the Spark UI unless {@code cluster.spark-ui = false}.
     *
     * @throws IllegalArgumentException naming the user's setting and Baton's value when they contradict.
     */
    public static SparkConf conf(final BatonConfig config, final SparkConf base)
    {
        final SparkConf conf = base.clone()
            .setMaster(master(config))
            .setAppName(config.get(CoordinatorKeys.CLUSTER_APP_NAME))
            .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval",
                base.get("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s"))
            // Running tasks' accumulators reach the driver with heartbeats: evaluate's progress line moves with them.
            .set("spark.executor.heartbeatInterval", base.get("spark.executor.heartbeatInterval",
                heartbeatMs(config) + "ms"));
        if (!base.contains("spark.ui.showConsoleProgress"))
        {
            // Baton prints its own progress line; Spark's bar would interleave with it.
            conf.set("spark.ui.showConsoleProgress", "false");
        }
        if (!config.get(CoordinatorKeys.CLUSTER_SPARK_UI))
        {
            conf.set("spark.ui.enabled", "false");
        }
        for (final Map.Entry<String, String[]> required : REQUIRED.entrySet())
        {
            final String key = required.getKey();
            final String value = required.getValue()[0];
            if (base.contains(key) && !base.get(key).trim().equals(value))
            {
                throw new IllegalArgumentException(key + " = " + base.get(key) + " (your Spark configuration) "
                    + "contradicts Baton's " + key + " = " + value + ": " + required.getValue()[1] + "; remove it");
            }
            conf.set(key, value);
        }
        if (!base.contains("spark.serializer"))
        {
            // Kryo with registration required: an unregistered class fails loudly instead of silently costing.
            conf.set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrationRequired", "true");
        }
        conf.set("spark.kryo.registrator", withRegistrator(base.get("spark.kryo.registrator", "")));
        final String theirs = base.get("spark.executor.extraJavaOptions", "").trim();
        final String own = executorJavaOptions();
        conf.set("spark.executor.extraJavaOptions", theirs.isEmpty() ? own : theirs + " " + own);
        for (final Map.Entry<String, String> env : nativeEnvironment().entrySet())
        {
            // An executor JVM's malloc reads these at start; a value already in this environment or in the user's
            // Spark configuration wins, so a user can override one.
            if (!base.contains("spark.executorEnv." + env.getKey()))
            {
                conf.setExecutorEnv(env.getKey(), System.getenv().getOrDefault(env.getKey(), env.getValue()));
            }
        }
        final int taskCpus = config.get(CoordinatorKeys.CLUSTER_TASK_CPUS);
        if (taskCpus > 0)
        {
            conf.set("spark.task.cpus", Integer.toString(taskCpus));
        }
        if (config.get(CoordinatorKeys.CLUSTER_GPUS_PER_TASK) == 1)
        {
            conf.set("spark.task.resource.gpu.amount", "1");
        }
        final String localIp = System.getenv("SPARK_LOCAL_IP");
        if (base.contains("spark.driver.host"))
        {
            return conf;
        }
        if (localIp != null)
        {
            conf.set("spark.driver.host", localIp);
        }
        else if (master(config).startsWith("local"))
        {
            // Everything runs on this host: keep Spark's sockets on loopback.
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        return conf;
    }

    /** A {@code spark.kryo.registrator} list with Baton's registrator added (once) to the user's. */
    public static String withRegistrator(final String registrators)
    {
        final String own = BatonKryoRegistrator.class.getName();
        final String theirs = registrators == null ? "" : registrators.trim();
        if (java.util.Arrays.asList(theirs.split("\\s*,\\s*")).contains(own))
        {
            return theirs;
        }
        return theirs.isEmpty() ? own : theirs + "," + own;
    }

    public static JavaSparkContext create(final BatonConfig config)
    {
        MasterProbe.requireReachable(master(config), MASTER_PROBE_TIMEOUT);
        return new JavaSparkContext(conf(config));
    }

    /** {@code progress.interval}, within 1-10 s (Spark's default heartbeat is 10 s). */
    static long heartbeatMs(final BatonConfig config)
    {
        return Math.max(1000, Math.min(10_000, config.get(CoordinatorKeys.PROGRESS_INTERVAL).toMillis()));
    }

    /** Baton's JVM flags (conf/jvm.properties) plus the native-backend properties of this JVM, for executors. */
    public static String executorJavaOptions()
    {
        final StringBuilder options = new StringBuilder(jvmFlags());
        for (final String key : new String[] {
            "org.bytedeco.javacpp.platform.extension",
            "org.eclipse.deeplearning4j.helpers.disable",
            "org.bytedeco.javacpp.cachedir"})
        {
            final String value = System.getProperty(key);
            if (value != null)
            {
                options.append(" -D").append(key).append('=').append(value);
            }
        }
        return options.toString().trim();
    }

    /** The flags of {@code conf/jvm.properties}, packaged in baton-common. */
    public static String jvmFlags()
    {
        return jvmProperties().getProperty("baton.jvm.flags", "").replaceAll("\\s+", " ").trim();
    }

    /**
     * The environment every training JVM should start with ({@code baton.native.env} of {@code conf/jvm.properties}:
     * glibc malloc settings that keep oneDNN's per-op scratchpads out of fresh mmaps), in declaration order.
     */
    public static Map<String, String> nativeEnvironment()
    {
        final Map<String, String> env = new LinkedHashMap<>();
        for (final String pair : jvmProperties().getProperty("baton.native.env", "").trim().split("\\s+"))
        {
            if (pair.isEmpty())
            {
                continue;
            }
            final int eq = pair.indexOf('=');
            if (eq <= 0)
            {
                throw new IllegalStateException("baton.native.env in jvm.properties: '" + pair + "' is not NAME=VALUE");
            }
            env.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return env;
    }

    private static Properties jvmProperties()
    {
        final Properties props = new Properties();
        try (InputStream in = SparkContexts.class.getResourceAsStream("/io/baton/common/jvm.properties"))
        {
            if (in == null)
            {
                throw new IllegalStateException("io/baton/common/jvm.properties missing from the class path");
            }
            props.load(in);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return props;
    }
}
