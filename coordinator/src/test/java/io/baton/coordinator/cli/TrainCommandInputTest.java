package io.baton.coordinator.cli;

import io.baton.coordinator.lock.DirectoryLock;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandInputTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path dir;

    @Test
    void dataThatWasNeverPreparedIsAUsageErrorNamingDataPathWithoutAStackTrace()
    {
        final Path data = dir.resolve("imagenet-not-prepared");
        final Path runDir = dir.resolve("run");
        final int code = BatonCli.run(new String[] {"train", "--data", data.toString(), "--run-dir", runDir.toString()},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("baton train: data.path = " + data + ": no manifest.json at "),
            err.toString());
        assertFalse(err.toString().contains("\tat "), err.toString());
        // refused before anything started: no run directory, no Spark
        assertFalse(Files.exists(runDir), "run directory created");
    }

    @Test
    void aMetricsPortInUseIsAUsageErrorNamingTheKeysWithoutAStackTraceBeforeTheRunChanges() throws Exception
    {
        final Path runDir = dir.resolve("run");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            final int code = BatonCli.run(new String[] {"train", "--run-dir", runDir.toString(), "--set",
                "data.image-size=16", "--set", "train.epochs=1", "--set", "metrics.port=" + taken.getLocalPort()},
                new PrintWriter(out, true), new PrintWriter(err, true));
            assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
            assertTrue(err.toString().startsWith("baton train: metrics.port = " + taken.getLocalPort()
                + ", metrics.bind-address = 127.0.0.1: cannot listen there (Address already in use); choose another "
                + "port, 0 for any free one, or -1 to turn the endpoint off\n"), err.toString());
            assertFalse(err.toString().contains("\tat "), err.toString());
        }
        assertFalse(Files.exists(runDir.resolve("run.conf")), "refused before the run's configuration was written");
        assertFalse(Files.exists(runDir.resolve("baton.lock")), "the run's lock released");
    }

    @Test
    void anImageNetConfigurationWithoutDataSaysTheBatchWasSizedAgainstTheGeneratedImages() throws Exception
    {
        final Path conf = Path.of(System.getProperty("user.dir")).getParent().resolve("conf/imagenet-resnet152.conf");
        final int code = BatonCli.run(new String[] {"train", "-c", conf.toString(), "--dry-run"},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("baton train: train.global-batch = 8192 is larger than the training split"),
            err.toString());
        assertTrue(err.toString().contains("data.path is not set, so this is the generated data set of "
            + "data.synthetic-samples = "), err.toString());
        assertTrue(err.toString().contains("give the prepared data with --data"), err.toString());
    }

    @Test
    void keepingALastBatchSmallerThanTheReplicasIsRefusedInOneLineBeforeAnythingStarts()
    {
        // 34 samples in batches of 8 leave 2 for the last batch of 4 replicas: two slices would be empty.
        final Path runDir = dir.resolve("run");
        final int code = BatonCli.run(new String[] {"train", "--run-dir", runDir.toString(), "--set",
            "train.drop-last=false", "--set", "data.synthetic-samples=34", "--set", "train.global-batch=8", "--set",
            "train.replicas=4", "--set", "data.image-size=16"}, new PrintWriter(out, true),
            new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("baton train: train.drop-last = false: the last global batch of every "
            + "epoch has 2 sample(s) (34 training samples mod train.global-batch = 8), fewer than the 4 replicas "
            + "(train.replicas = 4), so a replica would get an empty slice, which cannot be trained; set "
            + "train.drop-last = true, or a global batch whose remainder is 0 or at least the replicas (data.path is "
            + "not set, so this is the generated data set of data.synthetic-samples = 34 images"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), "one line: " + err);
        assertFalse(Files.exists(runDir), "run directory created");

        // The same data with 2 replicas: the last batch of 2 gives each one sample, which trains.
        final int dryRun = BatonCli.run(new String[] {"train", "--run-dir", runDir.toString(), "--dry-run", "--set",
            "train.drop-last=false", "--set", "data.synthetic-samples=34", "--set", "train.global-batch=8", "--set",
            "train.replicas=2", "--set", "data.image-size=16"}, new PrintWriter(out, true),
            new PrintWriter(err, true));
        assertEquals(0, dryRun, err.toString());
        assertTrue(out.toString().contains("steps per epoch 5"), out.toString());
    }

    @Test
    void aResumePathNamingNoCheckpointIsAUsageErrorAndLeavesTheRunsConfigurationAlone() throws Exception
    {
        final Path runDir = Files.createDirectories(dir.resolve("run"));
        Files.writeString(runDir.resolve("run.conf"), "# the run's own configuration\n");
        final Path missing = dir.resolve("elsewhere/checkpoints/ckpt-100");
        final int code = BatonCli.run(new String[] {"train", "--set", "data.image-size=32", "--run-dir", runDir.toString(), "--resume",
            missing.toString(), "--set", "train.epochs=1", "--set", "optim.decay-epochs=[]"},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("baton train: --resume " + missing + ": no checkpoint of step 100 in "),
            err.toString());
        assertFalse(err.toString().contains("\tat "), err.toString());
        assertEquals("# the run's own configuration\n", Files.readString(runDir.resolve("run.conf")));
    }

    @Test
    void aRunDirectoryHeldByAnotherJobIsRefusedWithExit4AndLeftAsItWas() throws Exception
    {
        final Path runDir = Files.createDirectories(dir.resolve("run"));
        Files.writeString(runDir.resolve("run.conf"), "# the running job's configuration\n");
        try (DirectoryLock running = DirectoryLock.acquire(FileSystem.getLocal(new Configuration()).getRaw(),
            new org.apache.hadoop.fs.Path(runDir.toUri()), "baton train", Duration.ofSeconds(60)))
        {
            final int code = BatonCli.run(new String[] {"train", "--set", "data.image-size=32", "--run-dir", runDir.toString(), "--resume", "never",
                "--set", "train.epochs=1", "--set", "optim.decay-epochs=[]"},
                new PrintWriter(out, true), new PrintWriter(err, true));
            assertEquals(BatonCli.EXIT_IN_USE, code, err.toString());
            assertTrue(err.toString().startsWith("baton train: file:" + runDir + " is in use by baton train on "),
                err.toString());
            assertFalse(err.toString().contains("\tat "), err.toString());
        }
        assertEquals("# the running job's configuration\n", Files.readString(runDir.resolve("run.conf")));
        try (var files = Files.list(runDir))
        {
            assertEquals(List.of(runDir.resolve("run.conf")), files.toList(), "the refused job wrote into the run");
        }
    }

    @Test
    void aStandaloneMasterThatIsNotUpIsAUsageErrorNamingItInsteadOfZeroTaskSlotsAfterSparksRetries() throws Exception
    {
        final int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            port = socket.getLocalPort();
        }
        final int code = BatonCli.run(new String[] {"train", "--run-dir", dir.resolve("run").toString(), "--master",
            "spark://127.0.0.1:" + port, "--set", "train.epochs=1", "--set", "optim.decay-epochs=[]"},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertEquals("baton train: cluster.master = spark://127.0.0.1:" + port + ": no Spark master answers at "
            + "127.0.0.1:" + port + " (Connection refused); is the cluster up?\n", err.toString());
    }

    @Test
    void aRunDirectoryThatIsAFileIsAUsageErrorNamingRunDir() throws Exception
    {
        final Path file = Files.writeString(dir.resolve("notes.txt"), "mine");
        final int code = BatonCli.run(new String[] {"train", "--set", "data.image-size=32", "--run-dir", file.toString(), "--set", "train.epochs=1",
            "--set", "optim.decay-epochs=[]"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("baton train: run.dir = " + file + ": cannot create run directory "),
            err.toString());
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void aUriSchemeNoFileSystemServesIsAUsageErrorInEveryCommand()
    {
        for (final String[] args : List.of(new String[] {"report", "foo://bucket/run"},
            new String[] {"evaluate", "--model", "foo://bucket/model.zip"},
            new String[] {"prepare", "foo://bucket/images", dir.resolve("out").toString()}))
        {
            final StringWriter error = new StringWriter();
            final int code = BatonCli.run(args, new PrintWriter(new StringWriter(), true),
                new PrintWriter(error, true));
            assertEquals(BatonCli.EXIT_USAGE, code, error.toString());
            assertTrue(error.toString().contains("No FileSystem for scheme \"foo\"") && error.toString().contains(
                "no Hadoop FileSystem for that scheme is on the class path"), error.toString());
            assertFalse(error.toString().contains("\tat "), error.toString());
        }
    }

    @Test
    void aDryRunSaysWhatTrainingWouldDoWithTheRunDirectoryAndChangesNothing() throws Exception
    {
        final Path fresh = dir.resolve("fresh");
        final String[] settings = {"--set", "train.epochs=1", "--set", "optim.decay-epochs=[]", "--set",
            "data.image-size=32", "--dry-run"};
        assertEquals(0, BatonCli.run(concat(new String[] {"train", "--run-dir", fresh.toString()}, settings),
            new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().contains("run directory " + fresh + ": new; training starts from the initial "
            + "weights\n"), out.toString());
        assertFalse(Files.exists(fresh), "a dry run created the run directory");

        final Path held = Files.createDirectories(dir.resolve("held"));
        try (DirectoryLock running = DirectoryLock.acquire(FileSystem.getLocal(new Configuration()).getRaw(),
            new org.apache.hadoop.fs.Path(held.toUri()), "baton train", Duration.ofSeconds(60)))
        {
            final StringWriter text = new StringWriter();
            assertEquals(0, BatonCli.run(concat(new String[] {"train", "--run-dir", held.toString()}, settings),
                new PrintWriter(text, true), new PrintWriter(err, true)), err.toString());
            assertTrue(text.toString().contains("run directory " + held + ": locked by baton train on "),
                text.toString());
            assertTrue(text.toString().contains("no checkpoint; training starts from the initial weights"),
                text.toString());
            assertTrue(Files.exists(held.resolve(DirectoryLock.FILE_NAME)), "the dry run left the lock alone");
        }
    }

    @Test
    void aBareTrainAndAShortOneAreAcceptedWithDefaultsThatFitThem()
    {
        // A new user's first commands: the default resnet20 at its own 32x32 (224 did not fit the memory pre-flight)
        // and decay points inside a 3-epoch run (the fixed [5, 8] lay past its end).
        final StringWriter bare = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"train", "--dry-run"}, new PrintWriter(bare, true),
            new PrintWriter(err, true)), err.toString() + bare);
        assertTrue(bare.toString().contains("data.image-size = 32 (not set: derived from model.arch = resnet20)"),
            bare.toString());
        assertTrue(bare.toString().contains("optim.decay-epochs = [5, 8] (not set: derived from optim.decay-fractions"),
            bare.toString());

        final StringWriter shortRun = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"train", "--dry-run", "--set", "train.epochs=3", "--run-dir",
            dir.resolve("short").toString()}, new PrintWriter(shortRun, true), new PrintWriter(err, true)),
            err.toString() + shortRun);
        assertTrue(shortRun.toString().contains("optim.decay-epochs = [1, 2] (not set: derived from "
            + "optim.decay-fractions = [0.5, 0.8], train.epochs = 3, optim.warmup-epochs = 0.0)"), shortRun.toString());
        assertFalse(Files.exists(dir.resolve("short")), "a dry run created the run directory");
    }

    private static String[] concat(final String[] first, final String[] second)
    {
        final String[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }
}
