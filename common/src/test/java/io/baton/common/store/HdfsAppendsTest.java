package io.baton.common.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Appending on HDFS after the file's previous writer died with it open (a killed executor, a killed driver). */
class HdfsAppendsTest
{
    private static MiniDFSCluster cluster;
    private static File baseDir;
    private static Configuration conf;

    @BeforeAll
    static void start() throws IOException
    {
        baseDir = Files.createTempDirectory("baton-minidfs").toFile();
        conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.getAbsolutePath());
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
    }

    @AfterAll
    static void stop()
    {
        if (cluster != null)
        {
            cluster.shutdown(true);
        }
        FileUtil.fullyDelete(baseDir);
    }

    @Test
    void shouldAppendAfterTheWriterDiedWithTheFileOpenByRecoveringItsLease() throws Exception
    {
        final Path file = new Path("/run/metrics.jsonl");
        final DistributedFileSystem dead = (DistributedFileSystem) FileSystem.newInstance(cluster.getURI(), conf);
        final FSDataOutputStream abandoned = dead.create(file);
        abandoned.write("step 1\n".getBytes(StandardCharsets.UTF_8));
        abandoned.hflush();
        // A crash: the client drops its streams without telling the NameNode, which still holds the file open for it.
        dead.getClient().closeAllFilesBeingWritten(true);
        try (FileSystem fs = FileSystem.newInstance(cluster.getURI(), conf))
        {
            final IOException refused = assertThrows(IOException.class, () -> fs.append(file).close());
            assertTrue(Appends.leaseHeldElsewhere(refused), refused.toString());
            OutputStreams.writeAndClose(Appends.open(fs, file), out ->
            {
                out.write("step 2\n".getBytes(StandardCharsets.UTF_8));
                out.hsync();
            });
            try (FSDataInputStream in = fs.open(file))
            {
                assertEquals("step 1\nstep 2\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void shouldAppendNormallyAndLeaveOtherFailuresAlone() throws Exception
    {
        try (FileSystem fs = FileSystem.newInstance(cluster.getURI(), conf))
        {
            final Path file = new Path("/run/events.jsonl");
            LineFiles.append(fs, file, "a\n");
            LineFiles.append(fs, file, "b\n");
            try (FSDataInputStream in = fs.open(file))
            {
                assertEquals("a\nb\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            final IOException missing = assertThrows(IOException.class, () -> Appends.open(fs, new Path("/none")));
            assertTrue(!Appends.leaseHeldElsewhere(missing), missing.toString());
        }
    }
}
