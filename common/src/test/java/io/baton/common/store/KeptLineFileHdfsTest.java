package io.baton.common.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A line record on HDFS keeps the lines whose append failed while the NameNode was down and writes them after. */
class KeptLineFileHdfsTest
{
    private MiniDFSCluster cluster;
    private File baseDir;
    private Configuration conf;

    @BeforeEach
    void start() throws IOException
    {
        baseDir = Files.createTempDirectory("baton-minidfs").toFile();
        conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.getAbsolutePath());
        // A client that gives up on an absent NameNode at once instead of retrying for minutes.
        conf.setInt("ipc.client.connect.max.retries", 0);
        conf.setInt("ipc.client.connect.max.retries.on.timeouts", 0);
        conf.setBoolean("dfs.client.retry.policy.enabled", false);
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
    }

    @AfterEach
    void stop()
    {
        if (cluster != null)
        {
            cluster.shutdown(true);
        }
        FileUtil.fullyDelete(baseDir);
    }

    @Test
    void shouldKeepTheLinesAppendedWhileTheNameNodeIsDownAndWriteThemInOrderWhenItIsBack() throws Exception
    {
        try (FileSystem fs = FileSystem.newInstance(cluster.getURI(), conf))
        {
            final Path path = new Path("/run/run-events.jsonl");
            final KeptLineFile file = new KeptLineFile(fs, path);
            assertNull(file.append("start\n"));

            cluster.shutdownNameNode(0);
            final IOException failed = file.append("stage-failed\n");
            assertNotNull(failed, "an append with the NameNode down cannot succeed");
            assertNotNull(file.append("resume\n"));
            assertEquals(2, file.keptLines());
            final IOException timedOut = assertThrows(IOException.class, () -> file.flush(Duration.ofMillis(600)));
            assertTrue(timedOut.getMessage().contains("2 line(s)") && timedOut.getMessage().contains(path.toString()),
                timedOut.getMessage());

            cluster.restartNameNode(0, true);
            cluster.waitActive();
            assertNull(file.append("completed\n"));
            assertEquals(0, file.keptLines());
            assertEquals("start\nstage-failed\nresume\ncompleted\n", read(fs, path));
        }
    }

    @Test
    void shouldWaitForTheStoreWhenFlushedAndFailOnlyAfterItsLimit() throws Exception
    {
        try (FileSystem fs = FileSystem.newInstance(cluster.getURI(), conf))
        {
            final Path path = new Path("/run/events.jsonl");
            final KeptLineFile file = new KeptLineFile(fs, path);
            cluster.shutdownNameNode(0);
            assertNotNull(file.append("a\n"));
            final Thread restart = new Thread(() ->
            {
                try
                {
                    Thread.sleep(1_000);
                    cluster.restartNameNode(0, true);
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
            });
            restart.start();
            file.flush(Duration.ofSeconds(60));
            restart.join();
            assertEquals(0, file.keptLines());
            assertEquals("a\n", read(fs, path));
        }
    }

    private static String read(final FileSystem fs, final Path path) throws IOException
    {
        try (FSDataInputStream in = fs.open(path))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
