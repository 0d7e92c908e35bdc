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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.baton.coordinator.train.TrainRuns.momentum;
import static io.baton.coordinator.train.TrainRuns.newestTakenBefore;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.part;
import static io.baton.coordinator.train.TrainRuns.partNames;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Worker loss on a real multi-JVM Spark: {@code baton train} runs on a local-cluster whose executors are separate
 * JVMs; mid-run one executor is killed with SIGKILL. The barrier stage fails, the driver relaunches it from the
 * newest checkpoint taken before the kill (not from the start, which would end bit-identical too), and the run ends
 * with every part of its final checkpoint (parameters with BN statistics, momentum) bit-identical to an
 * uninterrupted run's.
 */
@Tag("slow")
class KillExecutorTest
{
    private static final String[] KEYS = {
        "model.arch=resnet20", "data.image-size=16", "data.synthetic-classes=4", "data.synthetic-samples=32",
        "data.synthetic-val-samples=8", "train.global-batch=8", "train.replicas=2", "train.epochs=4",
        "optim.base-lr=0.05", "optim.base-batch=8", "optim.warmup-epochs=0.5", "optim.decay-epochs=[1]",
        "collective.host=127.0.0.1", "collective.timeout=8s", "checkpoint.every=3", "checkpoint.keep-last=10",
        "progress.interval=1s", "cluster.slot-wait=120s", "recovery.backoff=1s", "recovery.max-restarts=2"};
    private static final long TOTAL_STEPS = 16;
    /** The driver's line for the relaunched stage, with the step it starts from. */
    private static final Pattern RELAUNCH =
        Pattern.compile("2 replicas \\(stage 1\\), global batch 8, from step (\\d+) \\(");

    @Test
    void killingAnExecutorJvmMidRunEndsBitIdenticalToAnUninterruptedRun(@TempDir final Path work) throws Exception
    {
        // The reference runs in the same kind of JVMs (oneDNN's reduction order can depend on the thread layout).
        final Path reference = work.resolve("reference");
        final Path referenceLog = work.resolve("reference.log");
        final Process uninterrupted = LocalCluster.cli(work, args(reference)).redirectOutput(referenceLog.toFile())
            .start();
        assertTrue(uninterrupted.waitFor(6, TimeUnit.MINUTES), "reference run did not finish:\n" + read(referenceLog));
        assertEquals(0, uninterrupted.exitValue(), read(referenceLog));

        final Path run = work.resolve("killed");
        final Path log = work.resolve("driver.log");
        final Process driver = LocalCluster.cli(work, args(run)).redirectOutput(log.toFile()).start();
        final long resumedStep;
        final long newestBeforeKill;
        try
        {
            waitForSteps(run.resolve(RunDirectory.METRICS), 5, driver, log);
            final ProcessHandle executor = executorOf(driver).orElseThrow(() -> new AssertionError(
                "no executor JVM under the driver:\n" + read(log)));
            executor.destroyForcibly();
            assertTrue(executor.onExit().get(30, TimeUnit.SECONDS) != null);
            // No step completes after this (each needs both replicas): stage 0's checkpoints were all taken before.
            final long killedAtMs = System.currentTimeMillis();

            assertTrue(driver.waitFor(6, TimeUnit.MINUTES), "driver did not finish:\n" + read(log));
            final String output = read(log);
            assertEquals(0, driver.exitValue(), output);
            final Matcher relaunch = RELAUNCH.matcher(output);
            assertTrue(relaunch.find(), "the stage was relaunched:\n" + output);
            resumedStep = Long.parseLong(relaunch.group(1));
            newestBeforeKill = newestTakenBefore(run.toString(), killedAtMs);
        }
        finally
        {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        assertArrayEquals(params(reference.toString(), TOTAL_STEPS), params(run.toString(), TOTAL_STEPS),
            "parameters (with BN running statistics) bit-identical to the uninterrupted run");
    }

    private static String[] args(final Path runDir)
    {
        final List<String> args = new ArrayList<>(List.of("train", "--master", LocalCluster.master(2, 1536),
            "--run-dir", runDir.toString()));
        for (final String key : KEYS)
        {
            args.add("--set");
            args.add(key);
        }
        return args.toArray(new String[0]);
    }

    private static Optional<ProcessHandle> executorOf(final Process driver)
    {
        return driver.descendants()
            .filter(p -> p.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend")).orElse(false))
            .findFirst();
    }

    private static void waitForSteps(final Path metrics, final int steps, final Process driver, final Path log)
        throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadlineNs)
        {
            if (!driver.isAlive())
            {
                throw new AssertionError("driver exited before step " + steps + ":\n" + read(log));
            }
            if (Files.exists(metrics) && Files.readAllLines(metrics).size() >= steps)
            {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no step " + steps + " within 4 minutes:\n" + read(log));
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
