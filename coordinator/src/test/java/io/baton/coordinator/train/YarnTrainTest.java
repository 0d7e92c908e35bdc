package io.baton.coordinator.train;

import io.baton.coordinator.spark.MiniYarn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code spark-submit --master yarn} of {@code baton train} against a real YARN (Hadoop's MiniYARNCluster: the
 * NodeManager launches the ApplicationMaster and each executor as its own process), in client mode (the driver is
 * the submitting JVM) and cluster mode (the driver runs in the ApplicationMaster's container): two executors of one
 * core each, one replica each, train the small generated data set to the end. A queue without room for every
 * executor the replicas need is refused before anything is written.
 */
@Tag("slow")
class YarnTrainTest
{
    private static final Pattern DAEMON = Pattern.compile("Started daemon with process name: (\\d+)@");

    @TempDir
    static Path work;

    private static MiniYarn yarn;

    @BeforeAll
    static void startYarn() throws Exception
    {
        yarn = MiniYarn.start(work, 6144);
    }

    @AfterAll
    static void stopYarn()
    {
        if (yarn != null)
        {
            yarn.close();
        }
    }

    @Test
    void clientModeTrainsOnTwoExecutorContainers() throws Exception
    {
        trainsOnTwoExecutorContainers("client");
    }

    @Test
    void clusterModeRunsTheDriverInTheApplicationMasterAndTrains() throws Exception
    {
        trainsOnTwoExecutorContainers("cluster");
    }

    @Test
    void aQueueWithoutRoomForEveryExecutorIsRefusedInOneLineWithExit2AndNothingWritten() throws Exception
    {
        // Three executors of 1536 MB (2048 MB containers) and the client-mode AM (1024 MB) do not fit the
        // NodeManager's 6144 MB: YARN grants two, and the third replica never gets a slot.
        final Path run = work.resolve("run-small-queue");
        final Path log = work.resolve("small-queue.log");
        final Process process = yarn.submit("client", List.of("--conf", "spark.executor.instances=3",
            "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=1536m"),
            "train", "--run-dir", run.toUri().toString(), "--set", "cluster.master=yarn",
            "--set", "model.arch=resnet20", "--set", "data.image-size=16", "--set", "data.synthetic-samples=64",
            "--set", "data.synthetic-val-samples=16", "--set", "train.global-batch=12", "--set", "train.replicas=3",
            "--set", "train.epochs=1", "--set", "optim.decay-epochs=[]", "--set", "collective.host=127.0.0.1",
            "--set", "cluster.slot-wait=20s").redirectOutput(log.toFile()).start();
        try
        {
            assertTrue(process.waitFor(3, TimeUnit.MINUTES), "spark-submit did not finish in 3 minutes");
        }
        finally
        {
            process.destroyForcibly();
        }
        final String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(2, process.exitValue(), output);
        final List<String> refusals = output.lines().filter(l -> l.startsWith("baton train:")).toList();
        assertEquals(1, refusals.size(), output);
        assertTrue(refusals.get(0).startsWith("baton train: the cluster cannot run 3 replicas at once: master yarn "
            + "has 2 task slot(s) (2 executor(s), spark.task.cpus=1) after waiting 20 s; the YARN queue default has "
            + "not granted all spark.executor.instances=3 executor containers (spark.executor.memory=1536m"),
            refusals.get(0));
        assertTrue(!output.contains("\tat "), "no stack trace:\n" + output);
        assertTrue(!Files.exists(run), "nothing written: " + run);
    }

    private static void trainsOnTwoExecutorContainers(final String deployMode) throws Exception
    {
        final Path run = work.resolve("run-" + deployMode);
        final String output = submit(deployMode + ".log", deployMode, List.of(
            "--conf", "spark.executor.instances=2", "--conf", "spark.executor.cores=1",
            "--conf", "spark.executor.memory=1g", "--conf", "spark.driver.memory=1g"),
            "train", "--run-dir", run.toUri().toString(),
            "--set", "cluster.master=yarn", "--set", "model.arch=resnet20", "--set", "data.image-size=16",
            "--set", "data.synthetic-classes=4", "--set", "data.synthetic-samples=64",
            "--set", "data.synthetic-val-samples=16", "--set", "train.global-batch=16", "--set", "train.replicas=2",
            "--set", "train.epochs=1", "--set", "train.threads-per-replica=1", "--set", "optim.base-batch=16",
            "--set", "optim.warmup-epochs=0", "--set", "optim.decay-epochs=[]",
            "--set", "collective.host=127.0.0.1", "--set", "collective.timeout=60s",
            "--set", "progress.interval=2s", "--set", "cluster.slot-wait=120s");
        final String app = MiniYarn.applicationId(output);
        final List<Path> containers = yarn.containerLogs(app);
        final StringBuilder all = new StringBuilder(output);
        for (final Path container : containers)
        {
            all.append("\n==== ").append(container.getFileName()).append('\n').append(MiniYarn.output(container));
        }
        // The driver's own lines: the submitter's output in client mode, the ApplicationMaster container's in cluster.
        final String driver = "client".equals(deployMode) ? output : MiniYarn.output(containers.get(0));
        assertTrue(driver.contains("training on yarn: 2 replicas"), all.toString());

        // Each executor is a JVM of its own (its pid) and ran one replica task.
        final Set<String> pids = new HashSet<>();
        int running = 0;
        for (final Path container : containers)
        {
            final String text = MiniYarn.output(container);
            final Matcher daemon = DAEMON.matcher(text);
            if (daemon.find() && text.contains("Running task"))
            {
                pids.add(daemon.group(1));
                running++;
            }
        }
        assertEquals(2, running, "two executor containers ran tasks:\n" + all);
        assertEquals(2, pids.size(), "two executor processes:\n" + all);

        assertTrue(Files.exists(run.resolve(RunDirectory.MODEL)), all.toString());
        final String summary = Files.readString(run.resolve(RunDirectory.SUMMARY), StandardCharsets.UTF_8);
        assertTrue(summary.contains("\"steps\":4"), summary);
        assertTrue(summary.contains("\"val_samples\":16"), summary);
    }

    /** Runs spark-submit to the end; returns its output (exit 0 asserted). */
    private static String submit(final String logName, final String deployMode, final List<String> sparkConf,
        final String... batonArgs) throws IOException, InterruptedException
    {
        final Path log = work.resolve(logName);
        final Process process = yarn.submit(deployMode, sparkConf, batonArgs).redirectOutput(log.toFile()).start();
        try
        {
            if (!process.waitFor(5, TimeUnit.MINUTES))
            {
                throw new AssertionError("spark-submit (" + deployMode + ") did not finish in 5 minutes:\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
            }
            final String output = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, process.exitValue(), "spark-submit (" + deployMode + ") failed:\n" + output);
            return output;
        }
        finally
        {
            process.destroyForcibly();
        }
    }
}
