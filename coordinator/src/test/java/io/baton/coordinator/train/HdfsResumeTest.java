package io.baton.coordinator.train;

import io.baton.coordinator.lock.DirectoryInUseException;
import io.baton.coordinator.lock.DirectoryLock;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.baton.coordinator.train.TrainRuns.TOTAL_STEPS;
import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bit-exact resume with the run directory (metrics, events, checkpoints) on HDFS (a one-datanode MiniDFSCluster), and
 * the run directory's lock there.
 */
class HdfsResumeTest
{
    @TempDir
    static Path base;

    private static MiniDFSCluster cluster;
    private static String root;

    @BeforeAll
    static void startCluster() throws Exception
    {
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toAbsolutePath().toString());
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        root = cluster.getFileSystem().getUri().toString();
    }

    @AfterAll
    static void stopCluster()
    {
        if (cluster != null)
        {
            cluster.shutdown(true);
        }
    }

    @Test
    void runKilledAtAStepAndRerunOnHdfsEndsBitIdenticalToAnUninterruptedRun() throws Exception
    {
        final String reference = root + "/runs/reference";
        final String run = root + "/runs/killed";
        train(config(reference), ResumeRequest.auto());
        assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=6", "recovery.max-restarts=0"), ResumeRequest.auto()));
        // A failing stage interrupts the write in flight, so the newest published checkpoint may be 3, 4 or 6.
        final List<Long> steps = TrainRuns.steps(run);
        assertTrue(steps.get(0) == 3 && steps.get(steps.size() - 1) <= 6, steps.toString());

        final String output = train(config(run), ResumeRequest.auto());

        final java.util.regex.Matcher from = java.util.regex.Pattern.compile("from step (\\d+) \\(" + run
            + "/checkpoints/ckpt-0+(\\d+)\\)").matcher(output);
        assertTrue(from.find() && steps.contains(Long.parseLong(from.group(1))), steps + "\n" + output);
        assertArrayEquals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
        // The steps re-trained after the resume replace the ones the failed stage wrote after its checkpoint.
        try (java.io.InputStream in = cluster.getFileSystem().open(new org.apache.hadoop.fs.Path(run,
            RunDirectory.METRICS)))
        {
            final List<String> lines = List.of(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                .split("\n"));
            assertEquals(TOTAL_STEPS, lines.size(), String.join("\n", lines));
            for (int step = 0; step < TOTAL_STEPS; step++)
            {
                assertTrue(lines.get(step).startsWith("{\"step\":" + step + ","), lines.get(step));
            }
        }
    }

    @Test
    void aSecondJobOnAnHdfsRunDirectoryIsRefusedUntilTheFirstReleasesIt() throws Exception
    {
        final FileSystem fs = cluster.getFileSystem();
        final org.apache.hadoop.fs.Path runDir = new org.apache.hadoop.fs.Path(root + "/runs/locked");
        try (DirectoryLock first = DirectoryLock.acquire(fs, runDir, "baton train", Duration.ofSeconds(60)))
        {
            assertTrue(fs.exists(first.file()));
            assertThrows(DirectoryInUseException.class,
                () -> DirectoryLock.acquire(fs, runDir, "baton train", Duration.ofSeconds(60)));
        }
        try (DirectoryLock second = DirectoryLock.acquire(fs, runDir, "baton train", Duration.ofSeconds(60)))
        {
            assertTrue(fs.exists(second.file()));
        }
        assertFalse(fs.exists(new org.apache.hadoop.fs.Path(runDir, DirectoryLock.FILE_NAME)));
    }
}
