package io.baton.api.ml;

import io.baton.coordinator.spark.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SparkMlProgram} in its own driver JVM on a Spark local-cluster with two executor JVMs: a loaded
 * BatonClassificationModel scores every row on the executors as on local[1] (to float rounding), and each executor JVM
 * deserializes the broadcast network once for two transforms of 4 partitions.
 */
@Tag("slow")
class SparkMlClusterTest
{
    @Test
    void transformOnTwoExecutorJvmsEqualsLocalAndLoadsTheNetworkOncePerJvm(@TempDir final Path work) throws Exception
    {
        final Path log = work.resolve("program.log");
        final Process process = LocalCluster.java(work, SparkMlProgram.class.getName(),
            LocalCluster.master(2, 1024), work.toString()).redirectOutput(log.toFile()).start();
        if (!process.waitFor(5, TimeUnit.MINUTES))
        {
            process.destroyForcibly();
            throw new AssertionError("the program did not finish in 5 minutes:\n" + Files.readString(log));
        }
        final String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        final Matcher m = Pattern.compile("MAXDIFF (\\S+) ROWS (\\d+) LOADS (\\S+)").matcher(output);
        assertTrue(m.find(), output);
        System.out.println(m.group());
        assertEquals(15, Integer.parseInt(m.group(2)), "every row scored once");
        // The same network and inputs; only the batch composition differs (4 partitions of ~4 rows against one batch
        // of 15), which moves float results by an ulp or so.
        assertTrue(Double.parseDouble(m.group(1)) <= 1e-6, "executors score as local[1]: " + m.group());
        int executorsThatLoaded = 0;
        for (final String entry : m.group(3).split(","))
        {
            final int loads = Integer.parseInt(entry.substring(entry.indexOf('=') + 1));
            assertTrue(loads <= 1, "an executor JVM deserialized the network more than once: " + m.group(3));
            executorsThatLoaded += loads;
        }
        assertTrue(executorsThatLoaded >= 1, m.group(3));
    }
}
