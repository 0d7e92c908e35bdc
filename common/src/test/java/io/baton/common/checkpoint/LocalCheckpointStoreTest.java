package io.baton.common.checkpoint;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.baton.common.checkpoint.CheckpointTestSupport.bytes;
import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store on file://, plus failure injection through a scripted local file system. */
class LocalCheckpointStoreTest extends CheckpointStoreContract
{
    @TempDir
    java.nio.file.Path tmp;
    private ScriptedFileSystem fs;
    private final AtomicInteger runDirs = new AtomicInteger();

    @BeforeEach
    void setUp() throws IOException
    {
        fs = new ScriptedFileSystem();
    }

    @AfterEach
    void tearDown() throws IOException
    {
        fs.close();
    }

    @Override
    FileSystem fs()
    {
        return fs;
    }

    @Override
    Path newRunDir()
    {
        return new Path(tmp.toUri().toString(), "run-" + runDirs.incrementAndGet());
    }

    @Test
    void shouldKeepThePreviousCheckpointWhenThePublishRenameFails() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(1)))
        {
            store.write(metadata(10), parts(10));
            fs.failRenameTo(p -> p.getName().equals("ckpt-000000000020"));

            final IOException ex = assertThrows(IOException.class, () -> store.write(metadata(20), parts(20)));
            assertTrue(ex.getMessage().contains("could not publish checkpoint"), ex.getMessage());
            assertEquals(List.of(10L), store.list());
            store.open(10).verify();
            assertEquals(List.of("ckpt-000000000010"), names(fs.listStatus(store.dir())), "staging removed");

            fs.failRenameTo(p -> false);
            store.write(metadata(30), parts(30));
            assertEquals(List.of(30L), store.list(), "keep-last 1 deletes 10 only once 30 is published");
        }
    }

    @Test
    void shouldKeepThePreviousCheckpointWhenAPartWriteFails() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(1)))
        {
            store.write(metadata(10), parts(10));
            fs.failCreateOf(p -> p.getName().equals("part-updater"));

            final IOException ex = assertThrows(IOException.class, () -> store.write(metadata(20), parts(20)));
            assertTrue(ex.getMessage().contains("injected create failure"), ex.getMessage());
            assertEquals(List.of(10L), store.list());
            assertEquals(10, store.latestValid().checkpoint().step());
            assertEquals(List.of("ckpt-000000000010"), names(fs.listStatus(store.dir())));
        }
    }

    @Test
    void shouldKeepThePreviousCheckpointWhenAPartWriterThrows() throws Exception
    {
        try (CheckpointStore store = openStore(RetentionPolicy.keepLast(1)))
        {
            store.write(metadata(10), parts(10));
            final List<CheckpointPart> failing = List.of(CheckpointPart.streamed("params", out ->
            {
                out.write(bytes(1, 1000));
                throw new IllegalStateException("state changed while copying");
            }));
            assertThrows(IllegalStateException.class, () -> store.write(metadata(20), failing));
            assertEquals(List.of("ckpt-000000000010"), names(fs.listStatus(store.dir())));
        }
    }

    @Test
    void shouldRestoreACheckpointThatACrashedReplaceLeftMovedAside() throws Exception
    {
        final Path runDir = newRunDir();
        try (CheckpointStore store = CheckpointStore.open(fs, runDir, RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
        }
        // A writer replacing 20 moved it aside and died before publishing the new one.
        assertTrue(fs.rename(new Path(runDir, "ckpt-000000000020"), new Path(runDir, CheckpointNames.aside(20, "0a"))));
        try (CheckpointStore store = CheckpointStore.open(fs, runDir, RetentionPolicy.keepLast(3)))
        {
            assertEquals(List.of(10L, 20L), store.list());
            store.open(20).verify();
        }
    }

    @Test
    void shouldOpenFileUrisAndPlainPathsOnTheRawLocalFileSystemWithHsync() throws Exception
    {
        final java.nio.file.Path dir = tmp.resolve("plain/run");
        try (CheckpointStore store = CheckpointStore.open(dir.toString(), new Configuration(),
            RetentionPolicy.keepLast(2)))
        {
            assertEquals("file", store.dir().toUri().getScheme());
            store.write(metadata(1), parts(1));
        }
        assertTrue(Files.isRegularFile(dir.resolve("ckpt-000000000001/MANIFEST")));
        assertTrue(Files.isRegularFile(dir.resolve("ckpt-000000000001/part-params")));
        assertFalse(Files.exists(dir.resolve("ckpt-000000000001/.part-params.crc")), "no Hadoop .crc side files");
        try (CheckpointStore store = CheckpointStore.openReadOnly(dir.toUri().toString(), new Configuration()))
        {
            assertArrayEquals(bytes(1, 300_000), store.open(1).readPart("params"));
            assertThrows(IllegalStateException.class, () -> store.write(metadata(2), parts(2)));
        }
        try (FileSystem raw = CheckpointStore.fileSystemFor(dir.toString(), new Configuration());
             var out = raw.create(new Path(dir.toUri().toString(), "probe")))
        {
            assertTrue(out.hasCapability("hsync"), "the local stream must support hsync");
        }
    }

    @Test
    void shouldRefuseDuplicatePartNamesAndBadNames()
    {
        assertThrows(IllegalArgumentException.class, () -> CheckpointPart.ofBytes("../x", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> CheckpointPart.ofBytes("_hidden", new byte[1]));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () ->
        {
            try (CheckpointStore store = openStore(RetentionPolicy.keepLast(1)))
            {
                store.write(metadata(1), List.of(CheckpointPart.ofBytes("a", new byte[1]),
                    CheckpointPart.ofBytes("a", new byte[2])));
            }
        });
        assertTrue(ex.getMessage().contains("duplicate part name 'a'"), ex.getMessage());
    }
}
