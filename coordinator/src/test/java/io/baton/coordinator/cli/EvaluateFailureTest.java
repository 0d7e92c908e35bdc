package io.baton.coordinator.cli;

import io.baton.coordinator.demo.DemoImages;
import io.baton.trainer.backend.ReplicaThreads;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardFormat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An evaluation that fails in one replica returns only once its other replicas have ended: they wait for the failed
 * one in their collective until {@code collective.timeout}, and until then they hold compute threads and ports of
 * their JVM, which the caller's next job there would share.
 */
@Tag("slow")
class EvaluateFailureTest
{
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "train.global-batch=8", "train.replicas=2", "train.epochs=1", "optim.base-lr=0.05", "optim.base-batch=8",
        "optim.warmup-epochs=0.5", "collective.host=127.0.0.1", "collective.timeout=4s", "progress.interval=60s",
        "cluster.master=\"local[2]\"", "cluster.slot-wait=0s");

    @TempDir
    Path dir;

    @Test
    void anEvaluationWhoseReplicaFailsReturnsOnlyOnceItsOtherReplicaEnded() throws Exception
    {
        final Path tree = dir.resolve("images");
        DemoImages.write(tree, 5, 3, 8, 4, 16);
        final Path prepared = dir.resolve("prepared");
        assertEquals(0, CliRun.of("prepare", tree.toString(), prepared.toString(), "--set",
            "cluster.master=\"local[2]\"").code());
        final Path run = dir.resolve("run");
        final CliRun trained = CliRun.of(CliRun.withSettings(SETTINGS, "train", "--data", prepared.toString(),
            "--run-dir", run.toString()));
        assertEquals(0, trained.code(), trained.err() + trained.out());
        damageFirstValidationRecord(prepared);

        final CliRun evaluated = CliRun.of(CliRun.withSettings(SETTINGS, "evaluate", "--model",
            run.resolve("model.zip").toString(), "--data", prepared.toString()));

        assertNotEquals(0, evaluated.code(), evaluated.out());
        assertTrue(evaluated.err().contains("corrupt record 0 "), evaluated.err());
        assertEquals(0, ReplicaThreads.active(), "replicas of the failed evaluation still registered in this JVM");
    }

    /** Flips a byte of the encoded image of record 0 of the validation split's first shard (its CRC32C then fails). */
    private static void damageFirstValidationRecord(final Path prepared) throws Exception
    {
        final Manifest manifest = Manifest.fromJson(Files.readAllBytes(prepared.resolve(Manifest.FILE_NAME)),
            prepared.toString());
        final Manifest.ShardEntry shard = manifest.splits().get("val").shards().get(0);
        try (RandomAccessFile raf = new RandomAccessFile(prepared.resolve(shard.file()).toFile(), "rw"))
        {
            raf.seek(raf.length() - ShardFormat.FOOTER_LENGTH + 4);
            final long indexOffset = raf.readLong();
            raf.seek(indexOffset);
            final long record = raf.readLong();
            raf.seek(record + 4);
            final int pathLength = raf.readInt();
            final long at = record + ShardFormat.RECORD_PREFIX_LENGTH + pathLength + 4 + 10;
            raf.seek(at);
            final int original = raf.read();
            raf.seek(at);
            raf.write(original ^ 0x10);
        }
    }
}
