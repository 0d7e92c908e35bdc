package io.baton.coordinator.spark;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spark configuration Baton's driver builds for its executors. */
class SparkContextsTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @Test
    void nativeEnvironmentIsReadFromJvmProperties()
    {
        assertEquals(Map.of("MALLOC_MMAP_THRESHOLD_", "134217728", "MALLOC_TRIM_THRESHOLD_", "4294967296",
            "MALLOC_TOP_PAD_", "67108864", "GOMP_SPINCOUNT", "10000"), SparkContexts.nativeEnvironment());
    }

    @Test
    void executorsStartWithTheNativeEnvironmentWhereThisProcessHasNoneOfItsOwn()
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(ROOT.resolve("conf/demo.conf"),
            List.of());
        final SparkConf conf = SparkContexts.conf(config);
        SparkContexts.nativeEnvironment().forEach((name, value) -> assertEquals(
            System.getenv().getOrDefault(name, value), conf.get("spark.executorEnv." + name), name));
    }

    private static BatonConfig demo(final String... overrides)
    {
        return new ConfigLoader(ConfigDef.discover()).load(ROOT.resolve("conf/demo.conf"), List.of(overrides));
    }

    @Test
    void theUsersExecutorJavaOptionsAreKeptAndBatonsAppended()
    {
        final SparkConf conf = SparkContexts.conf(demo(), new SparkConf(false)
            .set("spark.executor.extraJavaOptions", "-Dcompany.flag=1 -XX:+UseG1GC"));
        final String options = conf.get("spark.executor.extraJavaOptions");
        assertTrue(options.startsWith("-Dcompany.flag=1 -XX:+UseG1GC "), options);
        assertTrue(options.endsWith(SparkContexts.executorJavaOptions()), options);
    }

    @Test
    void theSparkUiStaysOnUnlessTurnedOff()
    {
        assertEquals("true", SparkContexts.conf(demo(), new SparkConf(false)).get("spark.ui.enabled", "true"));
        assertEquals("false", SparkContexts.conf(demo("cluster.spark-ui=false"), new SparkConf(false))
            .get("spark.ui.enabled"));
    }

    @Test
    void aUserSettingThatContradictsBatonsRecoveryIsRefusedNamingBoth()
    {
        final IllegalArgumentException refused = org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> SparkContexts.conf(demo(), new SparkConf(false)
                .set("spark.task.maxFailures", "4")));
        assertEquals("spark.task.maxFailures = 4 (your Spark configuration) contradicts Baton's "
            + "spark.task.maxFailures = 1: a failed replica fails the stage; Baton relaunches it from the newest "
            + "checkpoint (recovery.max-restarts); remove it", refused.getMessage());
        // The same value is no contradiction; the user's malloc settings win over Baton's.
        final SparkConf conf = SparkContexts.conf(demo(), new SparkConf(false).set("spark.task.maxFailures", "1")
            .set("spark.executorEnv.MALLOC_TOP_PAD_", "1"));
        assertEquals("1", conf.get("spark.executorEnv.MALLOC_TOP_PAD_"));
    }

    @Test
    void batonsJobsUseKryoWithRegistrationRequiredAndTheUsersRegistratorsKeepTheirs()
    {
        final SparkConf own = SparkContexts.conf(demo(), new SparkConf(false));
        assertEquals("org.apache.spark.serializer.KryoSerializer", own.get("spark.serializer"));
        assertEquals("true", own.get("spark.kryo.registrationRequired"));
        assertEquals(BatonKryoRegistrator.class.getName(), own.get("spark.kryo.registrator"));
        final SparkConf users = SparkContexts.conf(demo(), new SparkConf(false)
            .set("spark.serializer", "org.apache.spark.serializer.JavaSerializer")
            .set("spark.kryo.registrator", "com.example.Mine"));
        assertEquals("org.apache.spark.serializer.JavaSerializer", users.get("spark.serializer"));
        assertEquals("com.example.Mine," + BatonKryoRegistrator.class.getName(), users.get("spark.kryo.registrator"));
        assertEquals("com.example.Mine," + BatonKryoRegistrator.class.getName(),
            SparkContexts.withRegistrator("com.example.Mine, " + BatonKryoRegistrator.class.getName())
                .replace(", ", ","));
    }
}
