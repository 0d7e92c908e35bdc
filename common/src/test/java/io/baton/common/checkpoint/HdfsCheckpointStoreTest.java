package io.baton.common.checkpoint;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.baton.common.checkpoint.CheckpointTestSupport.bytes;
import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The store on HDFS: one MiniDFSCluster (one datanode) for the whole class. */
class HdfsCheckpointStoreTest extends CheckpointStoreContract
{
    private static MiniDFSCluster cluster;
    private static FileSystem fs;
    private static File baseDir;
    private static final AtomicInteger RUN_DIRS = new AtomicInteger();

    @BeforeAll
    static void startCluster() throws Exception
    {
        baseDir = Files.createTempDirectory("baton-minidfs").toFile();
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.getAbsolutePath());
        // A file's close polls the namenode until its last block is reported; the 400 ms default first delay
        // would make every small part cost ~0.4 s on a one-datanode cluster.
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        fs = cluster.getFileSystem();
    }

    @AfterAll
    static void stopCluster() throws Exception
    {
        if (cluster != null)
        {
            cluster.shutdown(true);
        }
        if (!baseDir.exists())
        {
            return;
        }
        try (var paths = Files.walk(baseDir.toPath()))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).map(java.nio.file.Path::toFile).forEach(File::delete);
        }
    }

    @Override
    FileSystem fs()
    {
        return fs;
    }

    @Override
    Path newRunDir()
    {
        return fs.makeQualified(new Path("/runs/run-" + RUN_DIRS.incrementAndGet()));
    }

    @Test
    void shouldOpenAnHdfsUriAndReadBackWhatAnotherStoreWrote() throws Exception
    {
        final String location = newRunDir().toString();
        assertEquals("hdfs", new Path(location).toUri().getScheme());
        try (CheckpointStore store = CheckpointStore.open(location, fs.getConf(), RetentionPolicy.keepLast(2)))
        {
            store.write(metadata(1), parts(1));
            store.write(metadata(2), parts(2));
            store.write(metadata(3), parts(3));
        }
        try (CheckpointStore reader = CheckpointStore.openReadOnly(location, fs.getConf()))
        {
            assertEquals(List.of(2L, 3L), reader.list());
            final Checkpoint latest = reader.latestValid().checkpoint();
            assertEquals(metadata(3), latest.metadata());
            assertArrayEquals(bytes(3, 300_000), latest.readPart("params"));
        }
    }
}
