package io.baton.api;

import io.baton.coordinator.spark.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link UserProgram} in its own driver JVM on a Spark local-cluster whose two executors are separate JVMs: the
 * user's session, the user's graph, 2 replicas through the library API, and the session usable afterwards.
 */
@Tag("slow")
class UserProgramTest
{
    @Test
    void usersOwnSessionTrainsItsOwnGraphOnTwoExecutorJvmsAndStaysUsable(@TempDir final Path work) throws Exception
    {
        final Path log = work.resolve("user-program.log");
        final Process process = LocalCluster.java(work, UserProgram.class.getName(), LocalCluster.master(2, 1536),
            work.resolve("run").toString()).redirectOutput(log.toFile()).start();
        if (!process.waitFor(6, TimeUnit.MINUTES))
        {
            process.destroyForcibly();
            throw new AssertionError("the user program did not finish in 6 minutes:\n" + Files.readString(log));
        }
        final String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("training on local-cluster[2,1,1536]: 2 replicas"), output);
        assertTrue(output.contains("RESULT steps=8 samples=8 "), output);
        assertTrue(output.contains("SESSION rows=100 stopped=false"), output);
        assertTrue(Files.exists(work.resolve("run").resolve("model.zip")));
    }
}
