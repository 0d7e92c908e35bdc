package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code baton evaluate} (and {@code export}) on what a run leaves: its model, one of its checkpoints, or only
 * checkpoints so far.
 */
class EvaluateCommandTest
{
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "data.synthetic-classes=4", "data.synthetic-samples=32", "data.synthetic-val-samples=24",
        "train.global-batch=8", "train.replicas=2", "train.epochs=2", "optim.base-lr=0.05", "optim.base-batch=8",
        "optim.warmup-epochs=0.5", "optim.decay-epochs=[1]", "collective.host=127.0.0.1", "collective.timeout=8s",
        "checkpoint.every=3", "progress.interval=60s", "cluster.master=\"local[2]\"", "cluster.slot-wait=0s");
    private static final Pattern RESULT = Pattern.compile("top1=([0-9.]+) top5=([0-9.]+) samples=(\\d+)");
    private static final Pattern LOSS = Pattern.compile("loss ([0-9.]+)\\n");

    @TempDir
    Path dir;

    /** "top1 top5 samples loss" of an evaluation's output. */
    private static String result(final CliRun run)
    {
        assertEquals(0, run.code(), run.err() + run.out());
        final Matcher m = RESULT.matcher(run.out());
        final Matcher loss = LOSS.matcher(run.out());
        assertTrue(m.find() && loss.find(), run.out());
        return m.group(1) + " " + m.group(2) + " " + m.group(3) + " " + loss.group(1);
    }

    @Test
    void aCheckpointItsExportAndARunWithoutItsModelYetAreEvaluatedLikeTheModelOfTheSameStep() throws Exception
    {
        final Path run = dir.resolve("run");
        final CliRun trained = CliRun.of(CliRun.withSettings(SETTINGS, "train", "--run-dir", run.toString()));
        assertEquals(0, trained.code(), trained.err() + trained.out());
        final Path last = run.resolve("checkpoints/ckpt-000000000008");
        assertTrue(Files.isDirectory(last), "the epoch-end checkpoint of the last step");

        final String model = result(CliRun.of("evaluate", "--model", run.toString()));
        assertTrue(model.contains(" 24 "), "every validation sample: " + model);
        final CliRun checkpoint = CliRun.of("evaluate", "--model", last.toString());
        assertEquals(model, result(checkpoint), "the final checkpoint holds the model's parameters and BN statistics");
        // The checkpoint named as a plain local path, with or without a trailing slash, exports the same model.
        for (final String named : List.of(last.toString(), last + "/"))
        {
            final Path zip = dir.resolve("exported-" + named.length() + ".zip");
            final CliRun export = CliRun.of("export", "--checkpoint", named, "-o", zip.toString());
            assertEquals(0, export.code(), export.err() + export.out());
            assertEquals(model, result(CliRun.of(CliRun.withSettings(SETTINGS, "evaluate", "--model",
                zip.toString()))), named);
        }

        // As while training still runs: no model.zip yet. The run's newest checkpoint is evaluated, and it says so.
        Files.delete(run.resolve("model.zip"));
        final CliRun partial = CliRun.of("evaluate", "--model", run.toString());
        assertEquals(model, result(partial));
        assertTrue(partial.out().contains("no model.zip in " + run + " (training not finished): evaluating its newest "
            + "checkpoint, "), partial.out());
        assertTrue(partial.out().contains("ckpt-000000000008"), partial.out());
        final CliRun export = CliRun.of("export", "--model", run.toString(), "-o",
            dir.resolve("partial.zip").toString());
        assertEquals(BatonCli.EXIT_USAGE, export.code(), export.err());
        assertTrue(export.err().contains("no model file " + run.resolve("model.zip") + " (training not finished?); "
            + "its newest valid checkpoint is ") && export.err().contains("ckpt-000000000008: export it with "
            + "--checkpoint"), export.err());
    }

    @Test
    void aDirectoryWithNeitherModelNorCheckpointIsAUsageErrorWithoutAStackTrace() throws Exception
    {
        final Path empty = Files.createDirectories(dir.resolve("not-a-run"));
        final CliRun run = CliRun.of("evaluate", "--model", empty.toString());
        assertEquals(BatonCli.EXIT_USAGE, run.code(), run.err());
        assertEquals("baton evaluate: --model " + empty + " is a directory without model.zip and without a valid "
            + "checkpoint: not a run directory, or its training has not written a checkpoint yet\n", run.err());
        assertFalse(run.err().contains("\tat "));
    }
}
