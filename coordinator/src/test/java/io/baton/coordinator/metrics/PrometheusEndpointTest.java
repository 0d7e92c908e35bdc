package io.baton.coordinator.metrics;

import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.run.StepMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.apache.spark.scheduler.AccumulableInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scrapes the Prometheus endpoint on loopback while the run's files grow and replicas report their timings. */
class PrometheusEndpointTest
{
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(final String url) throws Exception
    {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private static String line(final int step, final double loss)
    {
        return "{\"step\":" + step + ",\"epoch\":1,\"step_in_epoch\":3,\"steps_per_epoch\":10,\"lr\":0.05,\"loss\":"
            + loss + ",\"top1\":\"NaN\",\"images\":64,\"images_per_sec\":512.5,\"step_ms\":125.0,"
            + "\"data_wait_ms\":2.5,\"comm_ms\":40.0,\"grad_norm\":1.5}\n";
    }

    private PrometheusRegistry runFiles()
    {
        final PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new RunFileCollector(new RunDirectory(dir.toString()), "job-a"));
        return registry;
    }

    @Test
    void aPortInUseIsAConfigurationErrorNamingTheKeys() throws Exception
    {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new PrometheusEndpoint(runFiles(), "127.0.0.1", taken.getLocalPort()));
            assertTrue(ex.getMessage().startsWith("metrics.port = " + taken.getLocalPort() + ", metrics.bind-address "
                + "= 127.0.0.1: cannot listen there (Address already in use); choose another port"), ex.getMessage());
        }
    }

    @Test
    void shouldServeTheLatestCompleteMetricsLineOnLoopback() throws Exception
    {
        final String url;
        try (PrometheusEndpoint endpoint = new PrometheusEndpoint(runFiles(), "127.0.0.1", 0))
        {
            url = endpoint.url();
            assertTrue(url.startsWith("http://127.0.0.1:") && endpoint.port() > 0, url);
            final HttpResponse<String> empty = get(url);
            assertEquals(200, empty.statusCode());
            assertTrue(empty.body().contains("baton_run_file_up{file=\"metrics.jsonl\",job_name=\"job-a\"} 1.0\n"),
                empty.body());
            assertFalse(empty.body().contains("baton_step"), "no step before training writes");

            Files.writeString(dir.resolve("metrics.jsonl"), line(12, 1.25) + line(13, 0.75) + "{\"step\":14,\"ep");
            Files.writeString(dir.resolve("health.jsonl"), "{\"step\":9,\"blocks\":[{\"block\":\"stage1_block1\","
                + "\"max_activation\":150.5,\"dead_fraction\":null}],\"grad_norm\":{\"stage1\":2.5},"
                + "\"warnings\":[\"block stage1_block1: max |activation| 150.5 > 100.0\"]}\n");
            final HttpResponse<String> scrape = get(url);
            assertTrue(scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                scrape.headers().toString());
            final String body = scrape.body();
            assertTrue(body.contains("# TYPE baton_step gauge\nbaton_step{job_name=\"job-a\"} 13.0\n"), body);
            assertTrue(body.contains("\nbaton_loss{job_name=\"job-a\"} 0.75\n"), body);
            assertTrue(body.contains("\nbaton_learning_rate{job_name=\"job-a\"} 0.05\n"), body);
            assertTrue(body.contains("\nbaton_batch_top1_ratio{job_name=\"job-a\"} NaN\n"), body);
            assertTrue(body.contains("\nbaton_images_per_second{job_name=\"job-a\"} 512.5\n"), body);
            assertTrue(body.contains("\nbaton_health_warnings{job_name=\"job-a\"} 1.0\n"), body);
            assertTrue(body.contains("\nbaton_health_max_activation{block=\"stage1_block1\",job_name=\"job-a\"} "
                + "150.5\n"), body);
            assertTrue(body.contains("\nbaton_health_dead_channels_ratio{block=\"stage1_block1\",job_name=\"job-a\"} "
                + "NaN\n"), body);
            assertTrue(body.contains("\nbaton_health_grad_norm{job_name=\"job-a\",stage=\"stage1\"} 2.5\n"), body);

            Files.writeString(dir.resolve("metrics.jsonl"), "ep\":1}\n" + line(15, 0.5), StandardOpenOption.APPEND);
            assertTrue(get(url).body().contains("\nbaton_step{job_name=\"job-a\"} 15.0\n"), "a later scrape shows "
                + "the newer step");
        }
        final Exception closed = assertThrows(Exception.class, () -> get(url));
        assertTrue(closed instanceof ConnectException || closed.getCause() instanceof ConnectException
            || closed instanceof IOException, "closed endpoint refuses connections: " + closed);
    }

    @Test
    void aRunFileThatCannotBeReadIsReportedDownNotServedAsEmpty() throws Exception
    {
        // A directory where the file should be: every read fails with an IOException.
        Files.createDirectories(dir.resolve("metrics.jsonl").resolve("x"));
        try (PrometheusEndpoint endpoint = new PrometheusEndpoint(runFiles(), "127.0.0.1", 0))
        {
            final HttpResponse<String> scrape = get(endpoint.url());
            assertEquals(200, scrape.statusCode(), "the other series are still served");
            assertTrue(scrape.body().contains("baton_run_file_up{file=\"metrics.jsonl\",job_name=\"job-a\"} 0.0\n"),
                scrape.body());
            assertTrue(scrape.body().contains("baton_run_file_up{file=\"health.jsonl\",job_name=\"job-a\"} 1.0\n"),
                scrape.body());
            assertFalse(scrape.body().contains("baton_loss"), scrape.body());
        }
    }

    @Test
    void everyReplicasTimingsAreServedAsHistogramsThatSurviveARelaunch() throws Exception
    {
        final long accumulator = 7;
        final ReplicaCollector collector = new ReplicaCollector(accumulator, "job-a");
        final PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(collector);
        // Two tasks of the first stage (ranks 0 and 1), then rank 1 again in the relaunched stage.
        collector.record(10, List.of(info(accumulator, timings(0, 0, 3, 0.02))));
        collector.record(11, List.of(info(accumulator, timings(1, 0, 3, 0.2))));
        collector.record(11, List.of(info(accumulator, timings(1, 0, 2, 0.2))));  // an older heartbeat, late
        collector.record(21, List.of(info(accumulator, timings(1, 2, 2, 3.0))));
        try (PrometheusEndpoint endpoint = new PrometheusEndpoint(registry, "127.0.0.1", 0))
        {
            final String body = get(endpoint.url()).body();
            assertTrue(body.contains("# TYPE baton_step_seconds histogram\n"), body);
            assertTrue(body.contains("baton_step_seconds_count{job_name=\"job-a\",replica=\"0\"} 3\n"), body);
            assertTrue(body.contains("baton_step_seconds_count{job_name=\"job-a\",replica=\"1\"} 5\n"), body);
            assertTrue(body.contains("baton_step_seconds_bucket{job_name=\"job-a\",replica=\"1\",le=\"0.25\"} 3\n"),
                "cumulative buckets: 3 steps of 0.2 s, 2 of 3 s:\n" + body);
            assertTrue(body.contains("baton_step_seconds_bucket{job_name=\"job-a\",replica=\"1\",le=\"+Inf\"} 5\n"),
                body);
            assertTrue(body.contains("baton_step_seconds_sum{job_name=\"job-a\",replica=\"1\"} 6.6"), body);
            assertTrue(body.contains("baton_communication_seconds_count{job_name=\"job-a\",replica=\"1\"} 5\n"), body);
            assertTrue(body.contains("baton_replica_last_step{job_name=\"job-a\",replica=\"1\"} 3.0\n"), body);
            assertTrue(body.contains("baton_checkpoint_write_seconds_count{job_name=\"job-a\",replica=\"0\"} 1\n"),
                body);
            assertTrue(body.contains("baton_checkpoint_written_bytes_total{job_name=\"job-a\",replica=\"0\"} 4096.0\n"),
                body);
            assertTrue(body.contains("# TYPE baton_collective_rejected_messages_total counter\n"), body);
            assertTrue(body.contains("baton_collective_rejected_messages_total{job_name=\"job-a\",replica=\"0\"} "
                + "0.0\n"), body);
            assertTrue(body.contains("baton_collective_rejected_messages_total{job_name=\"job-a\",replica=\"1\"} "
                + "10.0\n"), "2 refused in each of replica 1's 5 steps, over both of its tasks:\n" + body);
        }
    }

    @Test
    void timingsSurviveSerialisationAsAHeartbeatSendsThem() throws Exception
    {
        final ReplicaTimings sent = timings(1, 0, 4, 0.1);
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes))
        {
            out.writeObject(sent);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())))
        {
            final ReplicaTimings received = (ReplicaTimings) in.readObject();
            assertEquals(sent.toString(), received.toString());
            assertEquals(4, received.stepCounts()[4], "4 steps of 0.1 s in the bucket up to 0.1 s");
            assertEquals(8, received.rejectedMessages(), "2 refused messages in each of 4 steps");
        }
    }

    /** Timings of {@code steps} steps of {@code seconds} each from step {@code from} (rank 0 also a checkpoint). */
    private static ReplicaTimings timings(final int rank, final int from, final int steps, final double seconds)
    {
        final ReplicaTimings t = new ReplicaTimings();
        for (int i = 0; i < steps; i++)
        {
            // replica 1 refuses 2 stranger's messages in each step (as its communicator reports them)
            t.addStep(rank, new StepMetrics(from + i, 0, from + i, 10, 0.1, 1.0, 0.5, 8, 100, seconds * 1000, 1,
                seconds * 400, 1, rank == 1 ? 2 : 0, 2));
        }
        if (rank == 0)
        {
            t.addCheckpoint(rank, 0.3, 4096);
        }
        return t;
    }

    private static AccumulableInfo info(final long accumulator, final ReplicaTimings value)
    {
        return new AccumulableInfo(accumulator, Option.apply(ReplicaTimingsAccumulator.NAME),
            Option.apply(value), Option.empty(), false, false, Option.empty());
    }
}
