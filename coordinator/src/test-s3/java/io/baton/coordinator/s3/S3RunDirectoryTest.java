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
}
