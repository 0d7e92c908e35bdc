package io.baton.coordinator.chaos;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A three-datanode MiniDFSCluster in its own JVM for the chaos runner's NameNode restart: the runner's trial is the
 * only client that must see HDFS go away, so the cluster cannot live in the runner (or the driver) itself. Prints
 * {@code ready <uri>} once up; then reads commands from stdin: {@code restart-namenode} restarts the NameNode on the
 * same port (its metadata kept) and prints {@code restarted <ms>}; end of input or {@code stop} shuts it down.
 *
 * <p>Three datanodes, as many as HDFS's default replication: with fewer, every append to an existing file fails
 * ("Failed to replace a bad datanode on the existing pipeline"), because the client's datanode-replacement policy
 * wants the pipeline of a file it appends to as wide as the file's replication (a measured fact here: with one
 * datanode the second append to a file failed before any restart).
 *
 * <p>Usage: {@code MiniHdfs BASE_DIR}.
 */
public final class MiniHdfs
{
    private MiniHdfs()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, args[0]);
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        final MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(3).build();
        try
        {
            cluster.waitActive();
            System.out.println("ready " + cluster.getFileSystem().getUri());
            System.out.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !"stop".equals(line.strip()))
            {
                if ("restart-namenode".equals(line.strip()))
                {
                    final long start = System.nanoTime();
                    // Same ports (MiniDFSCluster keeps them), same name directories: clients see the NameNode
                    // vanish and come back, as after an operator's restart.
                    cluster.restartNameNode(true);
                    System.out.println("restarted " + (System.nanoTime() - start) / 1_000_000);
                    System.out.flush();
                }
            }
        }
        finally
        {
            cluster.shutdown(true);
        }
        System.exit(0);
    }
}
