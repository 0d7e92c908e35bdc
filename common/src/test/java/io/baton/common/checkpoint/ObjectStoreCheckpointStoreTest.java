package io.baton.common.checkpoint;

import io.baton.common.store.ObjectStoreLikeFileSystem;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The store on a file system with an object store's semantics (objstore://): every contract holds with manifest-last
 * publication, and no checkpoint relies on a rename (this file system's rename fails).
 */
class ObjectStoreCheckpointStoreTest extends CheckpointStoreContract
{
    @TempDir
    java.nio.file.Path tmp;
    private ObjectStoreLikeFileSystem fs;
    private final AtomicInteger runDirs = new AtomicInteger();

    @BeforeEach
    void setUp() throws IOException
    {
        fs = new ObjectStoreLikeFileSystem()
        {
            @Override
            public boolean rename(final Path src, final Path dst)
            {
                throw new UnsupportedOperationException("checkpoints must not rely on rename here: " + src);
            }
        };
        fs.initialize(URI.create("objstore:///"), new Configuration());
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
        return new Path("objstore://" + tmp.toAbsolutePath() + "/run-" + runDirs.incrementAndGet());
    }

    @Test
    void aWriteThatDiesBeforeItsManifestIsNeverPublishedAndTheNextWriterRemovesIt() throws Exception
    {
        final Path runDir = newRunDir();
        try (CheckpointStore store = CheckpointStore.open(fs, runDir, RetentionPolicy.keepLast(3)))
        {
            store.write(metadata(10), parts(10));
            final List<CheckpointPart> failing = List.of(parts(20).get(0), CheckpointPart.streamed("broken", out ->
            {
                out.write(new byte[1000]);
                throw new IOException("the writer died");
            }));
            assertThrows(IOException.class, () -> store.write(metadata(20), failing));
            assertEquals(List.of(10L), store.list());
        }
        // As a crashed writer leaves it: parts of step 30 without a manifest.
        final Path crashed = new Path(runDir, CheckpointNames.published(30));
        fs.mkdirs(crashed);
        fs.create(new Path(crashed, CheckpointNames.partFile("params")), false).close();
        try (CheckpointStore reader = CheckpointStore.openReadOnly(runDir.toString(), new Configuration()))
        {
            assertEquals(List.of(10L), reader.list());
            assertEquals(10, reader.latestValid().checkpoint().step());
        }
        try (CheckpointStore store = CheckpointStore.open(fs, runDir, RetentionPolicy.keepLast(3)))
        {
            assertFalse(fs.exists(crashed), "removed by the next writer");
            assertEquals(10, store.latestValid().checkpoint().step());
        }
    }

    @Test
    void retentionDeletesAManifestBeforeTheParts() throws Exception
    {
        final List<String> deleted = new java.util.ArrayList<>();
        final ObjectStoreLikeFileSystem recording = new ObjectStoreLikeFileSystem()
        {
            @Override
            public boolean delete(final Path p, final boolean recursive) throws IOException
            {
                deleted.add(p.getName());
                return super.delete(p, recursive);
            }
        };
        recording.initialize(URI.create("objstore:///"), new Configuration());
        try (CheckpointStore store = CheckpointStore.open(recording, newRunDir(), RetentionPolicy.keepLast(1)))
        {
            store.write(metadata(10), parts(10));
            store.write(metadata(20), parts(20));
            assertEquals(List.of(20L), store.list());
            assertEquals(List.of(CheckpointNames.MANIFEST, "ckpt-000000000010"), deleted);
        }
    }
}
