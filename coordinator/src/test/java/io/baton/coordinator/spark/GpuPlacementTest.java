package io.baton.coordinator.spark;

import io.baton.trainer.backend.NativeRuntime;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPU-aware placement through Spark 3 resource scheduling, with a discovery script that reports fake GPU addresses:
 * every replica gets its own address, and binding it on the CPU backend only reports it.
 */
class GpuPlacementTest
{
    @Test
    void eachReplicaGetsItsOwnGpuAddressFromTheDiscoveryScript(@TempDir final Path dir) throws Exception
    {
        final Path script = dir.resolve("fake-gpus.sh");
        // Each worker runs discovery once; hand out "3" to the first and "5" to the second (mkdir is atomic).
        Files.writeString(script, "#!/bin/sh\nif mkdir '" + dir.resolve("first") + "' 2>/dev/null; then a=3; "
            + "else a=5; fi\necho \"{\\\"name\\\": \\\"gpu\\\", \\\"addresses\\\": [\\\"$a\\\"]}\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        // Resource scheduling needs real workers: a local-cluster of two one-core workers with one GPU each.
        final SparkConf conf = new SparkConf().setMaster(LocalCluster.master(2, 1024)).setAppName("gpu-placement")
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1")
            .set("spark.worker.resource.gpu.amount", "1")
            .set("spark.worker.resource.gpu.discoveryScript", script.toString())
            .set("spark.executor.resource.gpu.amount", "1")
            .set("spark.task.resource.gpu.amount", "1")
            .set("spark.executor.extraJavaOptions", SparkContexts.executorJavaOptions())
            .set("spark.executor.extraClassPath", LocalCluster.classDirectories())
            .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.12");
        System.setProperty("spark.testing", "true");
        System.setProperty("spark.test.home", LocalCluster.sparkHome(dir.resolve("spark-home")).toString());
        final JavaSparkContext sc = new JavaSparkContext(conf);
        try
        {
            SlotCheck.require(sc, 2, java.time.Duration.ofSeconds(60));
            final List<ArrayList<String>> assigned = BarrierLauncher.run(sc, 2, new SparkJobLabel("test", "gpu placement"),
                context -> new ArrayList<>(context.gpuAddresses()));
            final Set<String> all = new HashSet<>();
            for (final List<String> addresses : assigned)
            {
                assertEquals(1, addresses.size(), "one GPU per replica: " + assigned);
                all.addAll(addresses);
            }
            assertEquals(Set.of("3", "5"), all, "replicas must get distinct addresses: " + assigned);
        }
        finally
        {
            sc.stop();
            System.clearProperty("spark.testing");
            System.clearProperty("spark.test.home");
        }
    }

    @Test
    void bindingOnTheCpuBackendReportsTheAddressAndBindsNothing()
    {
        assertTrue(NativeRuntime.bindDevice(List.of("5")).contains("GPU 5 assigned but this build uses the cpu backend"));
        assertTrue(NativeRuntime.bindDevice(List.of()).startsWith("no GPU assigned"));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> NativeRuntime.bindDevice(List.of("gpu-a")));
        assertTrue(ex.getMessage().contains("GPU address 'gpu-a'"), ex.getMessage());
    }
}
