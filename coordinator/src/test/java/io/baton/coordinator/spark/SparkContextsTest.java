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

/** The Spark configuration Baton's driver builds for its executors. */
class SparkContextsTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @Test
    void nativeEnvironmentIsReadFromJvmProperties()
    {
        assertEquals(Map.of("MALLOC_MMAP_THRESHOLD_", "134217728", "MALLOC_TRIM_THRESHOLD_", "4294967296",
            "MALLOC_TOP_PAD_", "67108864"), SparkContexts.nativeEnvironment());
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
}
