package io.baton.common.checkpoint;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import static io.baton.common.checkpoint.CheckpointTestSupport.bytes;
import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.partFile;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static io.baton.common.checkpoint.CheckpointTestSupport.rewrite;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour every file system must give the store; run on file:// and on HDFS by the subclasses. */
abstract class CheckpointStoreContract
{
    /** The file system under test. */
    abstract FileSystem fs();

    /** A fresh, not yet existing run directory on {@link #fs()}. */
    abstract Path newRunDir();

    CheckpointStore openStore(final RetentionPolicy retention) throws Exception
    {
        return CheckpointStore.open(fs(), newRunDir(), retention);
    }

    @Test
    void shouldRoundTripPartsAndMetadataThroughAPublishedCheckpoint() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(3)))
        {
            final byte[] params = bytes(1, 3_000_000);
            final ByteBuffer direct = ByteBuffer.allocateDirect(123_457);
            direct.put(bytes(2, 123_457)).flip();
            final byte[] streamed = bytes(3, 5_000);
            final CheckpointMetadata written = metadata(1200).with("note", "line1\nline2 = \\ ü");
            store.write(written, List.of(
                CheckpointPart.ofBytes("params", params),
                CheckpointPart.ofBuffer("momentum", direct),
                CheckpointPart.streamed("sampler.state", out ->
                {
                    out.write(streamed, 0, 1000);
                    out.write(streamed, 1000, streamed.length - 1000);
                }),
                CheckpointPart.ofBytes("empty", new byte[0])));
            assertEquals(0, direct.position(), "the buffer's position must not move");

            assertEquals(List.of(1200L), store.list());
            final Checkpoint read = store.open(1200);
            assertEquals(written, read.metadata());
            assertEquals(List.of("params", "momentum", "sampler.state", "empty"),
                read.parts().stream().map(PartInfo::name).toList());
            assertEquals(3_000_000, read.part("params").sizeBytes());
            assertArrayEquals(params, read.readPart("params"));
            assertArrayEquals(bytes(2, 123_457), read.readPart("momentum"));
            assertArrayEquals(streamed, read.readPart("sampler.state"));
            assertArrayEquals(new byte[0], read.readPart("empty"));
            try (InputStream in = read.openPart("params"))
            {
                final ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                assertArrayEquals(params, out.toByteArray());
            }
            read.verify();
            assertEquals(1200, store.latestValid().checkpoint().step());
        }
    }

    @Test
    void shouldListOnlyPublishedCheckpointsInStepOrder() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(10)))
        {
            assertEquals(List.of(), store.list());
            assertTrue(store.latestValid().found().isEmpty());
            for (final long step : new long[]{5, 20, 100})
            {
                store.write(metadata(step), parts(step));
            }
            fs().mkdirs(new Path(store.dir(), "_tmp-ckpt-000000000300-abc"));
            fs().mkdirs(new Path(store.dir(), "not-a-checkpoint"));
            assertEquals(List.of(5L, 20L, 100L), store.list());
            assertThrows(java.io.FileNotFoundException.class, () -> store.open(7));
        }
    }

    @Test
    void shouldFallBackToPreviousCheckpointWhenNewestPartHasAFlippedByte() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            rewrite(fs(), partFile(store, 20, "params"), data -> CheckpointTestSupport.flipByte(data, 123_456));

            final LatestValid latest = store.latestValid();
            assertEquals(10, latest.checkpoint().step());
            assertArrayEquals(bytes(10, 300_000), latest.checkpoint().readPart("params"));
            assertEquals(1, latest.rejected().size());
            final LatestValid.Rejected bad = latest.rejected().get(0);
            assertEquals(20, bad.step());
            assertEquals("ckpt-000000000020", bad.path().getName());
            assertTrue(bad.reason().contains("part 'params' checksum mismatch"), bad.reason());
            assertThrows(CorruptCheckpointException.class, () -> store.open(20).readPart("params"));
        }
    }

    @Test
    void shouldFallBackToPreviousCheckpointWhenNewestPartIsTruncated() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            store.write(metadata(30), parts(30));
            rewrite(fs(), partFile(store, 30, "updater"), data -> CheckpointTestSupport.truncate(data, 4096));
            rewrite(fs(), partFile(store, 20, "params"), data -> CheckpointTestSupport.truncate(data, 0));

            final LatestValid latest = store.latestValid();
            assertEquals(10, latest.checkpoint().step());
            assertEquals(List.of(30L, 20L), latest.rejected().stream().map(LatestValid.Rejected::step).toList());
            assertTrue(latest.rejected().get(0).reason().contains("part 'updater' is truncated: 4096 bytes, "
                + "manifest records 70000"), latest.rejected().get(0).reason());
            assertTrue(latest.rejected().get(1).reason().contains("part 'params' is truncated"),
                latest.rejected().get(1).reason());
        }
    }

    @Test
    void shouldRejectCheckpointWhoseManifestIsDamagedOrMissing() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            store.write(metadata(30), parts(30));
            final Path manifest30 = new Path(new Path(store.dir(), "ckpt-000000000030"), CheckpointNames.MANIFEST);
            rewrite(fs(), manifest30, data -> CheckpointTestSupport.truncate(data, data.length / 2));
            final Path manifest20 = new Path(new Path(store.dir(), "ckpt-000000000020"), CheckpointNames.MANIFEST);
            rewrite(fs(), manifest20, data -> new String(data, java.nio.charset.StandardCharsets.UTF_8)
                .replace("meta.epoch=2", "meta.epoch=7").getBytes(java.nio.charset.StandardCharsets.UTF_8));

            final LatestValid latest = store.latestValid();
            assertEquals(10, latest.checkpoint().step());
            assertTrue(latest.rejected().get(0).reason().contains("manifest is truncated"),
                latest.rejected().get(0).reason());
            assertTrue(latest.rejected().get(1).reason().contains("manifest checksum mismatch"),
                latest.rejected().get(1).reason());

            fs().delete(manifest30, false);
            assertEquals(List.of(10L, 20L), store.list());
            assertTrue(store.latestValid().rejected().get(0).reason().contains("manifest is missing"));
        }
    }

    @Test
    void shouldIgnoreAndRemoveDirectoryLeftByACrashedWriter() throws Exception
    {
        final Path runDir = newRunDir();
        try (CheckpointStore store = CheckpointStore.open(fs(), runDir, RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
        }
        // A writer that died after writing a part and one that died after its manifest, before the rename.
        final Path crashedEarly = new Path(runDir, CheckpointNames.staging(20, "dead1"));
        final Path crashedLate = new Path(runDir, CheckpointNames.staging(30, "dead2"));
        fs().mkdirs(crashedEarly);
        try (FSDataOutputStream out = fs().create(new Path(crashedEarly, "part-params")))
        {
            out.write(bytes(20, 1000));
        }
        fs().mkdirs(crashedLate);
        try (FSDataOutputStream out = fs().create(new Path(crashedLate, CheckpointNames.MANIFEST)))
        {
            out.write(new Manifest(metadata(30), List.of()).encode());
        }
        try (CheckpointStore reader = CheckpointStore.openReadOnly(runDir.toString(), fs().getConf()))
        {
            assertEquals(List.of(10L), reader.list());
            assertTrue(fs().exists(crashedEarly), "a read-only store must not clean up");
        }

        try (CheckpointStore store = CheckpointStore.open(fs(), runDir, RetentionPolicy.keepLast(3)))
        {
            assertFalse(fs().exists(crashedEarly));
            assertFalse(fs().exists(crashedLate));
            assertEquals(List.of(10L), store.list());
            assertEquals(10, store.latestValid().checkpoint().step());
            store.write(metadata(20), parts(20));
            assertEquals(List.of(10L, 20L), store.list());
            assertEquals(List.of("ckpt-000000000010", "ckpt-000000000020"), names(fs().listStatus(runDir)));
        }
    }

    @Test
    void shouldKeepTheLastKAndEveryMthCheckpoint() throws Exception
    {
        // Checkpoints every 10 steps; keep the last 2 and every 3rd (multiples of 30).
        try (CheckpointStore store = openStore(RetentionPolicy.of(2, 3, 10)))
        {
            for (long step = 10; step <= 100; step += 10)
            {
                store.write(metadata(step), parts(step));
            }
            assertEquals(List.of(30L, 60L, 90L, 100L), store.list());
            for (final long step : store.list())
            {
                store.open(step).verify();
            }
        }
    }

    @Test
    void shouldReplaceACorruptCheckpointWhenItsStepIsWrittenAgain() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(2)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            store.write(metadata(30), parts(30));
            rewrite(fs(), partFile(store, 30, "params"), data -> CheckpointTestSupport.flipByte(data, 7));
            assertEquals(20, store.latestValid().checkpoint().step());

            // Resumed from 20, the run writes 30 again: the new one replaces the corrupt one.
            final CheckpointMetadata again = metadata(30).with("attempt", "2");
            store.write(again, parts(30));
            assertEquals(List.of(20L, 30L), store.list());
            final LatestValid latest = store.latestValid();
            assertEquals(again, latest.checkpoint().metadata());
            assertTrue(latest.rejected().isEmpty());
            assertEquals(List.of("ckpt-000000000020", "ckpt-000000000030"), names(fs().listStatus(store.dir())));
        }
    }

    @Test
    void shouldDeleteNewerCheckpointsOfAnAbandonedTrajectoryOnlyAfterPublishing() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(2)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            store.write(metadata(30), parts(30));
            store.write(metadata(40), parts(40));
            // The run was resumed from 30 (say 40 was corrupt) and now publishes 35.
            store.write(metadata(35), parts(35));
            assertEquals(List.of(30L, 35L), store.list());
        }
    }

    static List<String> names(final FileStatus[] statuses)
    {
        return Arrays.stream(statuses).map(s -> s.getPath().getName()).sorted().toList();
    }
}
