package io.baton.coordinator.train;

import io.baton.trainer.run.ReplicaState;
import org.apache.spark.SparkContext$;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.baton.coordinator.train.TrainRuns.TOTAL_STEPS;
import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.part;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resume on file://: a run interrupted at any step and resumed ends bit-identical to an uninterrupted one (same world
 * size), corrupt checkpoints are skipped, changed trajectory keys are refused, and a failed stage is relaunched by
 * the driver. Each run: resnet20, 16x16 generated images, 8 steps of global batch 8 on two replicas.
 */
class ResumeTest
{
    @TempDir
    static Path work;

    private static String reference;

    @BeforeAll
    static void uninterruptedRun()
    {
        reference = work.resolve("reference").toString();
        train(config(reference), ResumeRequest.auto());
    }

    @Test
    void runKilledAtAStepAndRerunEndsBitIdenticalToAnUninterruptedRun() throws Exception
    {
        // The killed run writes its checkpoints synchronously (checkpoint.async=false), the rerun asynchronously.
        final String run = work.resolve("killed").toString();
        final TrainRuns.TrainFailed failed = assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=5", "recovery.max-restarts=0",
                "checkpoint.async=false"), ResumeRequest.auto()));
        assertTrue(failed.getMessage().contains("more than recovery.max-restarts = 0"), failed.getMessage());
        assertEquals(List.of(3L, 4L), TrainRuns.steps(run), "checkpoints every 3 steps and at the epoch end");

        final String output = train(config(run), ResumeRequest.auto());

        assertTrue(output.contains("from step 4 (") && output.contains("ckpt-000000000004"), output);
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS),
            "parameters (with BN running statistics) bit-identical to the uninterrupted run");
        assertArrayEquals(part(reference, TOTAL_STEPS, ReplicaState.MOMENTUM), part(run, TOTAL_STEPS,
            ReplicaState.MOMENTUM), "momentum bit-identical");
        final String summary = Files.readString(Path.of(run, RunDirectory.SUMMARY));
        assertTrue(summary.startsWith("{\"steps\":" + TOTAL_STEPS + ",\"last_stage_steps\":4,"),
            "the run's steps, and the resumed stage's: " + summary);
    }

    @Test
    void aRunResumedWithoutSettingWhatItWasStartedWithKeepsItsOwnValuesAndEndsBitIdentical() throws Exception
    {
        // Started with data.image-size = 16 set, as runs from before the size was derived recorded 224 for resnet20;
        // resumed with it unset, it derives to 32 now: the run keeps 16 and its trajectory.
        final String run = work.resolve("unset").toString();
        assertThrows(TrainRuns.TrainFailed.class, () -> train(config(run, "debug.fail-at-step=5",
            "recovery.max-restarts=0", "checkpoint.async=false"), ResumeRequest.auto()));

        final String output = train(config(run, "data.image-size=null", "optim.decay-epochs=null"),
            ResumeRequest.auto());

        assertTrue(output.contains("with data.image-size = 16 as the run was started (not set; derived now it would "
            + "be 32)"), output);
        assertTrue(output.contains("from step 4 ("), output);
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS),
            "parameters bit-identical to the uninterrupted run");
        assertTrue(Files.readString(Path.of(run, RunDirectory.CONFIG)).replaceAll("\\s", "").contains("image-size=16"),
            "run.conf records the size trained with");
    }

    @Test
    void aCompleteRunRunAgainSaysSoAndChangesNothing() throws Exception
    {
        final Path summary = Path.of(reference, RunDirectory.SUMMARY);
        final String before = Files.readString(summary);
        final long modelTime = Files.getLastModifiedTime(Path.of(reference, RunDirectory.MODEL)).toMillis();

        final String output = train(config(reference), ResumeRequest.auto());

        assertTrue(output.contains("is already complete: step " + TOTAL_STEPS + " of " + TOTAL_STEPS)
            && output.contains("nothing to train"), output);
        assertEquals(before, Files.readString(summary), "summary.json kept");
        assertEquals(modelTime, Files.getLastModifiedTime(Path.of(reference, RunDirectory.MODEL)).toMillis());
        assertFalse(before.contains("NaN"), before);
    }

    @Test
    void failedStageIsRelaunchedFromTheNewestCheckpointAndEndsBitIdentical() throws Exception
    {
        final String run = work.resolve("restarted").toString();

        final String output = train(config(run, "debug.fail-at-step=7", "recovery.max-restarts=1"),
            ResumeRequest.auto());

        assertTrue(output.contains("restart 1 of 1 from the newest checkpoint"), output);
        // What the replica said, not only Spark's "barrier task finished unsuccessfully".
        assertTrue(output.contains("stage failed (a replica failed: ") && output.contains("debug.fail-at-step: "
            + "replica 1 fails before step 7); restart 1 of 1"), output);
        assertTrue(output.contains("from step 6 ("), output);
        final String events = Files.readString(Path.of(run, RunEvents.FILE));
        assertTrue(events.contains("\"event\":\"stage-failed\"") && events.contains("\"event\":\"completed\""),
            events);
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
    }

    /**
     * The gradient all-reduce overlapped with backward (a second communicator and a thread per replica) gives the
     * plain all-reduce's bits with two replicas, also across a failed stage and its relaunch.
     */
    @Test
    void overlappedAllReduceSurvivesARelaunchAndEndsBitIdenticalToThePlainRun() throws Exception
    {
        final String run = work.resolve("overlapped").toString();

        final String output = train(config(run, "train.overlap-allreduce=true", "train.allreduce-bucket=64k",
            "debug.fail-at-step=7", "recovery.max-restarts=1"), ResumeRequest.auto());

        assertTrue(output.contains("restart 1 of 1 from the newest checkpoint"), output);
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS),
            "parameters bit-identical to the run that all-reduced after backward");
        assertArrayEquals(part(reference, TOTAL_STEPS, ReplicaState.MOMENTUM), part(run, TOTAL_STEPS,
            ReplicaState.MOMENTUM), "momentum bit-identical");
    }

    @Test
    void aSparkContextStoppedMidRunEndsItAsInterruptedWithoutARelaunch() throws Exception
    {
        // What Ctrl-C or SIGTERM does to the driver: Spark's shutdown hook stops the context under the running stage.
        final String run = work.resolve("interrupted").toString();
        final CompletableFuture<String> training = CompletableFuture.supplyAsync(
            () -> train(config(run, "train.epochs=40", "recovery.max-restarts=3"), ResumeRequest.auto()));
        final Path metrics = Path.of(run, RunDirectory.METRICS);
        final long deadlineNs = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while ((!Files.exists(metrics) || Files.size(metrics) == 0) && System.nanoTime() < deadlineNs)
        {
            Thread.sleep(50);
        }
        SparkContext$.MODULE$.getActive().get().stop();

        final ExecutionException ended = assertThrows(ExecutionException.class,
            () -> training.get(60, TimeUnit.SECONDS));
        final TrainRuns.TrainFailed failed = (TrainRuns.TrainFailed) ended.getCause();
        assertTrue(failed.getMessage().startsWith("training interrupted: the Spark context was stopped ("),
            failed.getMessage());
        assertTrue(failed.getMessage().endsWith("); the same command resumes from the newest checkpoint"),
            failed.getMessage());
        assertFalse(failed.output.contains("restart 1 of 3"), failed.output);
        // The replicas, which talk over Aeron and not through Spark, stop too (the step in flight may still end):
        // nothing more is written into the run.
        final long stepsWhenStopped = Files.readAllLines(metrics).size();
        Thread.sleep(3000);
        final long stepsAfter = Files.readAllLines(metrics).size();
        assertTrue(stepsAfter - stepsWhenStopped <= 1, "replicas trained on after the stop: " + stepsWhenStopped
            + " -> " + stepsAfter + " steps");
        Thread.sleep(2000);
        assertEquals(stepsAfter, Files.readAllLines(metrics).size(), "replicas trained on after the stop");
        final String events = Files.readString(Path.of(run, RunEvents.FILE));
        assertTrue(events.contains("\"event\":\"interrupted\"") && !events.contains("\"event\":\"stage-failed\""),
            events);
    }

    @Test
    void resumeNeverMovesTheEarlierRunAsideWholeAndStartsAfresh() throws Exception
    {
        final String run = work.resolve("afresh").toString();
        train(config(run), ResumeRequest.auto());
        final byte[] earlierModel = Files.readAllBytes(Path.of(run, RunDirectory.MODEL));
        final List<String> earlierMetrics = Files.readAllLines(Path.of(run, RunDirectory.METRICS));

        final String output = train(config(run), ResumeRequest.parse("never", false));

        assertTrue(output.contains("from step 0 (initial weights)"), output);
        final List<Path> aside;
        try (var entries = Files.list(Path.of(run)))
        {
            aside = entries.filter(p -> p.getFileName().toString().startsWith("before-")).toList();
        }
        assertEquals(1, aside.size(), aside.toString());
        assertTrue(output.contains("--resume never: moved the earlier run's checkpoints, metrics.jsonl, health.jsonl, "
            + "summary.json, model.zip, run.conf to "), output);
        assertArrayEquals(earlierModel, Files.readAllBytes(aside.get(0).resolve(RunDirectory.MODEL)));
        assertEquals(earlierMetrics, Files.readAllLines(aside.get(0).resolve(RunDirectory.METRICS)));
        assertTrue(Files.exists(aside.get(0).resolve("checkpoints/ckpt-000000000008")));
        // The new run's own files, one metrics line per step of this run only.
        assertEquals(TOTAL_STEPS, Files.readAllLines(Path.of(run, RunDirectory.METRICS)).size());
        assertTrue(Files.exists(Path.of(run, RunDirectory.MODEL)));
        assertTrue(Files.readString(Path.of(run, RunEvents.FILE)).contains("\"event\":\"earlier-run-set-aside\""));
        // Same seed, same data: the fresh run ends where the earlier one did.
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
    }

    @Test
    void corruptNewestCheckpointIsReportedAndThePreviousOneUsed() throws Exception
    {
        final String run = work.resolve("corrupt").toString();
        assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=5", "recovery.max-restarts=0"), ResumeRequest.auto()));
        final Path newest = Path.of(TrainRuns.checkpointDir(run), "ckpt-000000000004", "part-params");
        try (RandomAccessFile file = new RandomAccessFile(newest.toFile(), "rw"))
        {
            file.seek(1000);
            final int b = file.read();
            file.seek(1000);
            file.write(b ^ 0x40);
        }

        final String output = train(config(run), ResumeRequest.auto());

        assertTrue(output.contains("ckpt-000000000004 is corrupt and is skipped"), output);
        assertTrue(output.contains("from step 3 ("), output);
        assertTrue(Files.readString(Path.of(run, RunEvents.FILE)).contains("corrupt-checkpoint-skipped"));
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
    }

    @Test
    void changedTrajectoryKeysAreRefusedByNameUnlessForced() throws Exception
    {
        final String run = work.resolve("changed").toString();
        assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=2", "recovery.max-restarts=0", "checkpoint.every=1"),
                ResumeRequest.auto()));
        assertEquals(List.of(1L, 2L), TrainRuns.steps(run));

        final TrainRuns.TrainFailed refused = assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "optim.base-lr=0.1", "train.seed=7"), ResumeRequest.auto()));

        final ResumeRefusedException cause = (ResumeRefusedException) refused.getCause();
        assertEquals(List.of(new ConfigDiff.Difference("optim.base-lr", "0.05", "0.1"),
            new ConfigDiff.Difference("train.seed", "42", "7")), cause.differences());
        assertTrue(cause.getMessage().contains("optim.base-lr: 0.05 -> 0.1, train.seed: 42 -> 7"),
            cause.getMessage());

        final TrainRuns.TrainFailed augmented = assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "data.augment.flip=false", "data.normalise.mean=[0.5, 0.5, 0.5]"),
                ResumeRequest.auto()));
        assertEquals(List.of(new ConfigDiff.Difference("data.augment.flip", "true", "false"),
            new ConfigDiff.Difference("data.normalise.mean", "[0.485, 0.456, 0.406]", "[0.5, 0.5, 0.5]")),
            ((ResumeRefusedException) augmented.getCause()).differences());

        final String forced = train(config(run, "optim.base-lr=0.1", "train.seed=7"),
            new ResumeRequest(ResumeRequest.Mode.AUTO, null, true));
        assertTrue(forced.contains("with --force although trajectory keys changed"), forced);
        assertEquals(TOTAL_STEPS, (long) TrainRuns.steps(run).get(TrainRuns.steps(run).size() - 1));
    }
}
