package io.baton.coordinator.train;

import io.baton.coordinator.spark.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hung replica on a real multi-JVM Spark: one executor JVM of a local-cluster is stopped (SIGSTOP) mid-run. The
 * other replica's collective deadline names the silent rank, the driver asks Spark to kill that rank's executor, and
 * the relaunched stage starts within about collective.timeout plus an executor start, not after Spark's 120 s
 * heartbeat timeout.
 */
@Tag("slow")
class HungExecutorTest
{
    private static final String[] KEYS = {
        "model.arch=resnet20", "data.image-size=16", "data.synthetic-classes=4", "data.synthetic-samples=32",
        "data.synthetic-val-samples=8", "train.global-batch=8", "train.replicas=2", "train.epochs=4",
        "optim.base-lr=0.05", "optim.base-batch=8", "optim.warmup-epochs=0.5", "optim.decay-epochs=[1]",
        "collective.host=127.0.0.1", "collective.timeout=8s", "checkpoint.every=3", "checkpoint.keep-last=10",
        "progress.interval=1s", "cluster.slot-wait=120s", "recovery.backoff=1s", "recovery.max-restarts=2"};
    /** Well under Spark's 120 s heartbeat timeout, which is what freed a hung executor's slot before. */
    private static final long RECOVERY_LIMIT_MS = 75_000;

    @Test
    void aStoppedExecutorIsKilledAndTheStageRelaunchedWithinSeconds(@TempDir final Path work) throws Exception
    {
        final Path run = work.resolve("hung");
        final Path log = work.resolve("driver.log");
        final List<String> args = new ArrayList<>(List.of("train", "--master", LocalCluster.master(2, 1536),
            "--run-dir", run.toString()));
        for (final String key : KEYS)
        {
            args.add("--set");
            args.add(key);
        }
        final Process driver = LocalCluster.cli(work, args.toArray(new String[0])).redirectOutput(log.toFile())
            .start();
        ProcessHandle stopped = null;
        try
        {
            waitFor(() -> Files.exists(run.resolve(RunDirectory.METRICS))
                && Files.readAllLines(run.resolve(RunDirectory.METRICS)).size() >= 5, driver, log, "step 5");
            stopped = driver.descendants()
                .filter(p -> p.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no executor JVM under the driver:\n" + read(log)));
            assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(stopped.pid())).start().waitFor());
            final long stoppedAtNs = System.nanoTime();

            waitFor(() -> read(log).contains("(stage 1)"), driver, log, "the relaunched stage");
            final long recoveryMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAtNs);
            final String output = read(log);
            assertTrue(output.contains("was silent in a collective: killing its executor"), output);
            assertTrue(recoveryMs < RECOVERY_LIMIT_MS, "the stage was relaunched " + recoveryMs + " ms after the "
                + "executor stopped:\n" + output);

            assertTrue(driver.waitFor(6, TimeUnit.MINUTES), "driver did not finish:\n" + read(log));
            assertEquals(0, driver.exitValue(), read(log));
            System.out.println("HungExecutorTest: stage relaunched " + recoveryMs + " ms after SIGSTOP");
        }
        finally
        {
            if (stopped != null)
            {
                new ProcessBuilder("kill", "-CONT", Long.toString(stopped.pid())).start().waitFor();
            }
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
    }

    private interface Condition
    {
        boolean holds() throws Exception;
    }

    private static void waitFor(final Condition condition, final Process driver, final Path log, final String what)
        throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadlineNs)
        {
            if (condition.holds())
            {
                return;
            }
            if (!driver.isAlive())
            {
                throw new AssertionError("driver exited before " + what + ":\n" + read(log));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no " + what + " within 4 minutes:\n" + read(log));
    }

    private static String read(final Path log)
    {
        try
        {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
