package io.baton.coordinator.cli;

import io.baton.coordinator.chaos.ShardDamage;
import io.baton.coordinator.demo.DemoImages;
import io.baton.trainer.backend.ReplicaThreads;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        // a byte of the image of record 0 of the validation split's first shard: its CRC32C then fails
        ShardDamage.flip(prepared, "val", 0, 0, 10, 4);

        final CliRun evaluated = CliRun.of(CliRun.withSettings(SETTINGS, "evaluate", "--model",
            run.resolve("model.zip").toString(), "--data", prepared.toString()));

        assertNotEquals(0, evaluated.code(), evaluated.out());
        assertTrue(evaluated.err().contains("corrupt record 0 "), evaluated.err());
        assertEquals(0, ReplicaThreads.active(), "replicas of the failed evaluation still registered in this JVM");
    }
}
