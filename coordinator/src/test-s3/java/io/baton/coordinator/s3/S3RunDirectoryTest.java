package io.baton.coordinator.s3;

import io.baton.common.checkpoint.CheckpointMetadata;
import io.baton.common.checkpoint.CheckpointPart;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.RetentionPolicy;
import io.baton.common.store.StoreErrors;
import io.baton.coordinator.cli.BatonCli;
import io.baton.coordinator.lock.DirectoryInUseException;
import io.baton.coordinator.lock.DirectoryLock;
import io.baton.coordinator.report.RunReport;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.StepLines;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run directory on S3 through hadoop-aws's S3A, against an S3Proxy (transient blob store) on 127.0.0.1: step lines
 * as segments, events rewritten, checkpoints published manifest-last, the lock, and the one-line refusals of a missing
 * bucket and of refused credentials. Run by deploy/s3/test-s3.sh (mvn -Ps3).
 */
class S3RunDirectoryTest
{
    private static final String BUCKET = "runs";
    private static final String ACCESS = "baton-access";
    private static final String SECRET = "baton-secret";
    private static S3Proxy proxy;
    private static BlobStoreContext blobs;
    private static java.nio.file.Path site;

    @BeforeAll
    static void startS3() throws Exception
    {
        blobs = ContextBuilder.newBuilder("transient").credentials("identity", "credential")
            .build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, BUCKET);
        proxy = S3Proxy.builder().blobStore(blobs.getBlobStore())
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
            .endpoint(URI.create("http://127.0.0.1:0")).build();
        proxy.start();
        for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++)
        {
            Thread.sleep(50);
        }
        // RunDirectory and the CLI use new Configuration(): S3A's settings go in a default resource on the class path.
        site = java.nio.file.Path.of(S3RunDirectoryTest.class.getProtectionDomain().getCodeSource().getLocation()
            .toURI()).resolve("baton-s3-test-site.xml");
        Files.writeString(site, "<?xml version=\"1.0\"?>\n<configuration>\n"
            + prop("fs.s3a.endpoint", "http://127.0.0.1:" + proxy.getPort())
            + prop("fs.s3a.endpoint.region", "us-east-1")
            + prop("fs.s3a.path.style.access", "true")
            + prop("fs.s3a.connection.ssl.enabled", "false")
            + prop("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider")
            + prop("fs.s3a.access.key", ACCESS)
            + prop("fs.s3a.secret.key", SECRET)
            + prop("fs.s3a.bucket.wrong.secret.key", "not-the-secret")
            + prop("fs.s3a.attempts.maximum", "1")
            + prop("fs.s3a.retry.limit", "1")
            + prop("fs.s3a.retry.interval", "10ms")
            + "</configuration>\n");
        Configuration.addDefaultResource("baton-s3-test-site.xml");
    }

    private static String prop(final String name, final String value)
    {
        return "  <property><name>" + name + "</name><value>" + value + "</value></property>\n";
    }

    @AfterAll
    static void stopS3() throws Exception
    {
        FileSystem.closeAll();
        if (proxy != null)
        {
            proxy.stop();
        }
        if (blobs != null)
        {
            blobs.close();
        }
        Files.deleteIfExists(site);
    }

    private static String lines(final int from, final int to)
    {
        final StringBuilder text = new StringBuilder();
        for (int step = from; step < to; step++)
        {
            text.append("{\"step\":").append(step).append(",\"loss\":1.0}\n");
        }
        return text.toString();
    }

    private static void stage(final RunDirectory run, final boolean append, final long checkpointStep,
        final int from, final int to) throws Exception
    {
        try (StepLines.Sink sink = StepLines.sink(run, RunDirectory.METRICS, append, checkpointStep))
        {
            for (int step = from; step < to; step++)
            {
                sink.write("{\"step\":" + step + ",\"loss\":1.0}");
            }
        }
    }

    @Test
    void metricsAreSegmentsThatReadersJoinAndTheReportRenders() throws Exception
    {
        final RunDirectory run = new RunDirectory("s3a://" + BUCKET + "/metrics-run");
        stage(run, false, -1, 0, 9);
        stage(run, true, 6, 6, 8);
        assertEquals(lines(0, 8), run.readStepLines(RunDirectory.METRICS));
        assertFalse(run.exists(RunDirectory.METRICS), "no single file: S3 cannot append");
        final String html = RunReport.render(run);
        assertTrue(html.contains("metrics") || html.contains("loss"));
        final org.apache.hadoop.fs.Path report = RunReport.write(run, null);
        assertTrue(run.fileSystem().exists(report));
    }

    @Test
    void checkpointsArePublishedManifestLast() throws Exception
    {
        final String dir = "s3a://" + BUCKET + "/ckpt-run/checkpoints";
        try (CheckpointStore store = CheckpointStore.open(dir, new Configuration(), RetentionPolicy.keepLast(1)))
        {
            for (final long step : List.of(10L, 20L))
            {
                store.write(CheckpointMetadata.of(step, 0, 2, "hash", "test"),
                    List.of(CheckpointPart.ofBytes("params", new byte[100_000])));
            }
            assertEquals(List.of(20L), store.list());
            assertEquals(20, store.latestValid().checkpoint().step());
            store.latestValid().checkpoint().verify();
            final List<String> names = new ArrayList<>();
            for (final FileStatus status : FileSystem.get(URI.create(dir), new Configuration()).listStatus(
                new Path(dir)))
            {
                names.add(status.getPath().getName());
            }
            assertEquals(List.of("ckpt-000000000020"), names);
        }
    }

    @Test
    void theLockRefusesASecondJob() throws Exception
    {
        final Path dir = new Path("s3a://" + BUCKET + "/locked-run");
        final FileSystem fs = dir.getFileSystem(new Configuration());
        DirectoryLock first;
        try
        {
            first = DirectoryLock.acquire(fs, dir, "baton train", Duration.ofSeconds(60));
        }
        catch (final IllegalArgumentException refused)
        {
            // S3Proxy without conditional writes: refused by name, unless the user opts in.
            System.out.println("S3 lock: refused without opt-in: " + refused.getMessage());
            assertTrue(refused.getMessage().contains("does not honour conditional writes"), refused.getMessage());
            first = DirectoryLock.acquire(fs, dir, "baton train", Duration.ofSeconds(60), true);
        }
        try (DirectoryLock held = first)
        {
            System.out.println("S3 lock: held " + held.file());
            final DirectoryInUseException ex = assertThrows(DirectoryInUseException.class,
                () -> DirectoryLock.acquire(fs, dir, "baton retrain", Duration.ofSeconds(60), true));
            assertTrue(ex.getMessage().contains("is in use by baton train"), ex.getMessage());
        }
        assertFalse(fs.exists(new Path(dir, DirectoryLock.FILE_NAME)), "released");
    }

    @Test
    void aMissingBucketIsOneLineWithExit2AndNothingWritten()
    {
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"report", "s3a://no-such-bucket/run"}, new PrintWriter(
            new StringWriter()), new PrintWriter(err, true));
        System.out.println("missing bucket: exit " + code + ": " + err);
        assertEquals(2, code, err.toString());
        assertEquals(1, err.toString().strip().split("\n").length, err.toString());
        assertTrue(err.toString().contains("bucket does not exist"), err.toString());
        assertFalse(blobs.getBlobStore().containerExists("no-such-bucket"));
    }

    @Test
    void refusedCredentialsAreOneLineWithExit2AndNothingWritten() throws Exception
    {
        blobs.getBlobStore().createContainerInLocation(null, "wrong");
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"report", "s3a://wrong/run"}, new PrintWriter(
            new StringWriter()), new PrintWriter(err, true));
        System.out.println("refused credentials: exit " + code + ": " + err);
        assertEquals(2, code, err.toString());
        assertEquals(1, err.toString().strip().split("\n").length, err.toString());
        assertTrue(err.toString().contains("refused these credentials"), err.toString());
        assertEquals(0, blobs.getBlobStore().list("wrong").size());
        final Path dir = new Path("s3a://wrong/locked");
        final RuntimeException lock = assertThrows(RuntimeException.class, () -> DirectoryLock.acquire(
            dir.getFileSystem(new Configuration()), dir, "baton train", Duration.ofSeconds(60)));
        assertNotNull(StoreErrors.explain(lock), lock.toString());
    }

    private static final List<String> TRAIN = List.of("model.arch=resnet20", "data.image-size=16",
        "data.synthetic-classes=4", "data.synthetic-samples=32", "data.synthetic-val-samples=8", "train.global-batch=8",
        "train.replicas=2", "train.epochs=2", "optim.base-lr=0.05", "optim.base-batch=8", "optim.warmup-epochs=0.5",
        "optim.decay-epochs=[1]", "collective.host=127.0.0.1", "collective.timeout=8s", "checkpoint.every=3",
        "checkpoint.keep-last=10", "progress.interval=60s", "cluster.master=\"local[2]\"", "cluster.slot-wait=0s",
        "recovery.backoff=0s", "run.lock-unsafe-store=true");
    private static final long TOTAL_STEPS = 8;

    private record Cli(int code, String out, String err)
    {
    }

    private static Cli cli(final List<String> args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(args.toArray(new String[0]), new PrintWriter(out, true),
            new PrintWriter(err, true));
        return new Cli(code, out.toString(), err.toString());
    }

    private static Cli train(final String runDir, final String... extra)
    {
        final List<String> args = new ArrayList<>(List.of("train", "--run-dir", runDir));
        for (final String setting : TRAIN)
        {
            args.add("--set");
            args.add(setting);
        }
        for (final String setting : extra)
        {
            args.add("--set");
            args.add(setting);
        }
        return cli(args);
    }

    private static byte[] params(final String runDir, final long step) throws Exception
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(runDir + "/checkpoints", new Configuration()))
        {
            return store.open(step).readPart(io.baton.trainer.run.ReplicaState.PARAMS);
        }
    }

    @Test
    void aTrainingRunOnS3FailsResumesFromItsS3CheckpointAndEndsAsALocalRunThenExportsAndVerifiesThere(
        @org.junit.jupiter.api.io.TempDir final java.nio.file.Path local) throws Exception
    {
        final String reference = local.resolve("reference").toString();
        final Cli uninterrupted = train(reference);
        assertEquals(0, uninterrupted.code(), uninterrupted.out() + uninterrupted.err());

        final String run = "s3a://" + BUCKET + "/train-run";
        final Cli failed = train(run, "debug.fail-at-step=6", "recovery.max-restarts=0");
        assertEquals(1, failed.code(), failed.out() + failed.err());
        final Cli resumed = train(run);
        assertEquals(0, resumed.code(), resumed.out() + resumed.err());
        assertTrue(resumed.out().contains("from step "), "resumed from a checkpoint on S3: " + resumed.out());
        assertTrue(java.util.Arrays.equals(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS)),
            "the run on S3, failed and resumed, ends bit-identical to the uninterrupted local run");
        final RunDirectory dir = new RunDirectory(run);
        assertEquals(TOTAL_STEPS, dir.readStepLines(RunDirectory.METRICS).lines().count(),
            "one metrics line per step of the surviving trajectory");
        assertTrue(dir.exists(RunDirectory.MODEL), "model.zip written to S3");

        final String exported = "s3a://" + BUCKET + "/exports/model.zip";
        final Cli export = cli(List.of("export", "--model", run, "-o", exported));
        assertEquals(0, export.code(), export.out() + export.err());
        final Cli verify = cli(List.of("verify-model", exported));
        assertEquals(0, verify.code(), verify.out() + verify.err());
        final Cli report = cli(List.of("report", run));
        assertEquals(0, report.code(), report.out() + report.err());

        final String models = "s3a://" + BUCKET + "/models";
        final List<String> retrain = List.of("retrain", "--from", exported, "--data", "null", "--models-dir", models,
            "--set", "retrain.epochs=0", "--set", "data.synthetic-classes=4", "--set", "data.synthetic-samples=32",
            "--set", "data.synthetic-val-samples=8", "--set", "train.global-batch=8", "--set",
            "run.lock-unsafe-store=true");
        final Cli first = cli(retrain);
        assertEquals(0, first.code(), first.out() + first.err());
        final Cli second = cli(retrain);
        assertEquals(0, second.code(), second.out() + second.err());
        final RunDirectory modelsDir = new RunDirectory(models);
        assertTrue(modelsDir.exists("latest.zip"), "latest.zip on S3");
        assertEquals(2, modelsDir.readText("promotions.jsonl").lines().count(),
            "both decisions in promotions.jsonl, rewritten whole (S3 has no append)");
    }

    @Test
    void dataPreparedOntoS3TrainsARunOnS3(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path local)
        throws Exception
    {
        final java.nio.file.Path images = local.resolve("images");
        io.baton.coordinator.demo.DemoImages.write(images, 7, 4, 8, 2, 24);
        final String data = "s3a://" + BUCKET + "/prepared";
        final Cli prepare = cli(List.of("prepare", images.toString(), data, "--set", "cluster.master=\"local[2]\""));
        assertEquals(0, prepare.code(), prepare.out() + prepare.err());

        final String run = "s3a://" + BUCKET + "/prepared-run";
        final Cli trained = train(run, "data.path=\"" + data + "\"", "data.loader-threads=1");
        assertEquals(0, trained.code(), trained.out() + trained.err());
        assertEquals(TOTAL_STEPS, new RunDirectory(run).readStepLines(RunDirectory.METRICS).lines().count(),
            "32 prepared images, global batch 8, 2 epochs: 8 steps read from S3");
        final Cli evaluate = cli(List.of("evaluate", "--model", run, "--set", "cluster.master=\"local[2]\""));
        assertEquals(0, evaluate.code(), evaluate.out() + evaluate.err());
        assertTrue(evaluate.out().contains("top-1"), evaluate.out());
    }
}
