package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, which {@code .ci/run} installs) scrapes a training
 * run's endpoint every second, through a stage that fails on purpose and is relaunched. Afterwards its HTTP API must
 * hold the loss series with the values of {@code metrics.jsonl}, one step-time series per replica, the relaunch, and
 * no failed scrape while the endpoint was up (the relaunch included); every query of the shipped Grafana dashboard
 * returns data.
 */
@Tag("slow")
class PrometheusScrapeTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    // 5 scrape intervals: a CI run on a clean clone once saw no scrape in a 3 s back-off (Prometheus and the relaunch
    // share 2 cores), which is the machine's stall, not the endpoint going down
    private static final long BACKOFF_MS = 5000;

    @TempDir
    Path work;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aPrometheusServerScrapesEveryReplicaAndTheLossThroughARelaunch() throws Exception
    {
        final String prometheus = findPrometheus();
        final int metricsPort = freePort();
        final int prometheusPort = freePort();
        final Path config = work.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            + "scrape_configs:\n  - job_name: baton\n    static_configs:\n"
            + "      - targets: ['127.0.0.1:" + metricsPort + "']\n");
        final Path log = work.resolve("prometheus.log");
        final Process server = new ProcessBuilder(prometheus, "--config.file=" + config,
            "--storage.tsdb.path=" + work.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + prometheusPort)
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        final String api = "http://127.0.0.1:" + prometheusPort;
        try
        {
            awaitReady(api, server, log);
            final String run = work.resolve("run").toString();
            // 320 steps (160 per epoch) of resnet20 on 16x16 images; the last replica fails before step 30 once, and the
            // driver relaunches from the checkpoint of step 20 after BACKOFF_MS. The 300 steps after the relaunch take
            // ~10 s here, so the 1 s scrapes see the step move several times (80 steps took 2 s, and a CI run on a
            // clean clone then saw only 2 distinct steps).
            TrainRuns.train(TrainRuns.config(run, "data.synthetic-samples=1280", "checkpoint.every=20",
                "metrics.port=" + metricsPort, "progress.interval=1s", "health.every=10", "debug.fail-at-step=30",
                "recovery.backoff=" + BACKOFF_MS + "ms"), ResumeRequest.auto());
            Thread.sleep(1500);   // the last scrape's samples are queryable

            final Map<String, Long> events = eventTimes(Path.of(run, RunDirectory.EVENTS));
            final long failedMs = events.get("stage-failed");
            final long completedMs = events.get("completed");
            final String at = "&time=" + completedMs / 1000.0;

            // No failed scrape while the endpoint was up, and scrapes during the relaunch's back-off.
            final List<double[]> up = samples(query(api, "up{job=\"baton\"}[10m]" + at)).get("{}");
            int duringRelaunch = 0;
            for (final double[] sample : up)
            {
                assertEquals(1.0, sample[1], "a failed scrape at " + (long) (sample[0] * 1000) + " ms; log: "
                    + Files.readString(log));
                if (sample[0] * 1000 >= failedMs && sample[0] * 1000 <= failedMs + BACKOFF_MS)
                {
                    duringRelaunch++;
                }
            }
            assertTrue(up.size() >= 5, "scrapes: " + up.size());
            assertTrue(duringRelaunch >= 1, "no scrape between the failure at " + failedMs + " and the relaunch");

            // The loss series holds metrics.jsonl's values: each scrape's loss is that of the step it shows.
            final List<String> metricsLines = Files.readAllLines(Path.of(run, RunDirectory.METRICS));
            final Map<Long, Double> lossByStep = new HashMap<>();
            for (final String line : metricsLines)
            {
                final JsonNode m = JSON.readTree(line);
                lossByStep.put(m.get("step").asLong(), m.get("loss").asDouble());
            }
            final List<double[]> steps = samples(query(api, "baton_step{job=\"baton\"}[10m]" + at)).get("{}");
            final List<double[]> losses = samples(query(api, "baton_loss{job=\"baton\"}[10m]" + at)).get("{}");
            assertEquals(steps.size(), losses.size(), "one step and one loss per scrape");
            final TreeMap<Long, Double> seen = new TreeMap<>();
            for (int i = 0; i < steps.size(); i++)
            {
                assertEquals(steps.get(i)[0], losses.get(i)[0], "same scrape");
                final long step = (long) steps.get(i)[1];
                assertEquals(lossByStep.get(step), losses.get(i)[1], "loss of step " + step);
                seen.put(step, losses.get(i)[1]);
            }
            assertTrue(seen.size() >= 3, "distinct steps scraped: " + seen);
            assertTrue(seen.firstKey() < 30 && seen.lastKey() > 30, "steps scraped before the failure and after the "
                + "relaunch: " + seen.keySet());

            // One step-time series per replica, each with the steps it trained.
            final Map<String, List<double[]>> perReplica = samples(query(api,
                "max_over_time(baton_step_seconds_count{job=\"baton\"}[10m])" + at));
            assertEquals(List.of("0", "1"), new ArrayList<>(replicas(perReplica)), perReplica.keySet().toString());
            // The counts come with executors' heartbeats and with each task's end, and only scrapes up to the
            // completion are queried: on a fast machine a stage trains many steps between two of them, so each
            // replica's highest count seen is at least one step and at most the steps it trained (metrics.jsonl's
            // steps, plus steps 21-30, trained again after the relaunch from step 20), never a fixed number (a CI run
            // once saw 9 where 10 was asked).
            final int trained = metricsLines.size() + 10;
            for (final List<double[]> value : perReplica.values())
            {
                final double counted = value.get(0)[1];
                assertTrue(counted >= 1 && counted <= trained, "steps counted for a replica: " + counted
                    + ", at most trained: " + trained);
            }
            final Map<String, List<double[]>> checkpointBytes = samples(query(api,
                "max_over_time(baton_checkpoint_written_bytes_total{job=\"baton\"}[10m])" + at));
            assertEquals(List.of("0"), replicas(checkpointBytes), "rank 0 writes the checkpoints");
            assertTrue(checkpointBytes.values().iterator().next().get(0)[1] > 100_000, "bytes of the checkpoints");
            dashboardQueriesRun(api, at);
            assertEquals(1.0, samples(query(api, "max_over_time(baton_stage_relaunches_total{job=\"baton\"}[10m])"
                + at)).values().iterator().next().get(0)[1], "the relaunch counted");
        }
        finally
        {
            server.destroy();
            if (!server.waitFor(15, TimeUnit.SECONDS))
            {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Every query of the Grafana dashboard in deploy/monitoring (its variables filled in, rate windows of 5 s) returns
     * series for this run (health checks every 10 steps, so the health panels have data too).
     */
    private void dashboardQueriesRun(final String api, final String at) throws Exception
    {
        final JsonNode dashboard = JSON.readTree(Path.of(System.getProperty("user.dir")).getParent()
            .resolve("deploy/monitoring/grafana-dashboard.json").toFile());
        int withData = 0;
        final List<String> empty = new ArrayList<>();
        for (final JsonNode panel : dashboard.path("panels"))
        {
            for (final JsonNode target : panel.path("targets"))
            {
                final String expr = target.path("expr").asText().replace("$job_name", ".*").replace("$job", "baton")
                    .replace("$__rate_interval", "5s");
                final JsonNode data = query(api, expr + at);
                if (data.path("result").size() > 0)
                {
                    withData++;
                }
                else
                {
                    empty.add(panel.path("title").asText() + ": " + expr);
                }
            }
        }
        for (final String panel : List.of("Loss", "Mean step time per replica", "Mean communication time per replica",
            "Steps behind the furthest replica", "Max |activation| per block", "Heap used"))
        {
            assertTrue(empty.stream().noneMatch(e -> e.startsWith(panel + ": ")), "no data for " + panel + ": "
                + empty);
        }
        assertTrue(empty.isEmpty(), withData + " queries with data; none for " + empty);
    }

    private static String findPrometheus()
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":"))
        {
            if (Files.isExecutable(Path.of(dir, "prometheus")))
            {
                return Path.of(dir, "prometheus").toString();
            }
        }
        return fail("the Prometheus server is required for this test and was not found on PATH; install Debian's "
            + "package with: apt-get install -y prometheus (.ci/run does)");
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    private void awaitReady(final String api, final Process server, final Path log) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadlineNs)
        {
            if (!server.isAlive())
            {
                fail("prometheus exited with " + server.exitValue() + ": " + Files.readString(log));
            }
            try
            {
                if (http.send(HttpRequest.newBuilder(URI.create(api + "/-/ready")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200)
                {
                    return;
                }
            }
            catch (final IOException notYet)
            {
                // not listening yet
            }
            Thread.sleep(200);
        }
        fail("prometheus not ready within 60 s: " + Files.readString(log));
    }

    private JsonNode query(final String api, final String queryAndTime) throws Exception
    {
        final int amp = queryAndTime.indexOf("&time=");
        final String uri = api + "/api/v1/query?query=" + URLEncoder.encode(queryAndTime.substring(0, amp),
            StandardCharsets.UTF_8) + queryAndTime.substring(amp);
        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(uri)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body()).path("data");
    }

    /** Series (by their labels other than job, instance and __name__) to samples {seconds, value}. */
    private static Map<String, List<double[]>> samples(final JsonNode data)
    {
        final Map<String, List<double[]>> series = new TreeMap<>();
        for (final JsonNode result : data.path("result"))
        {
            final TreeMap<String, String> labels = new TreeMap<>();
            result.path("metric").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
            labels.keySet().removeAll(List.of("job", "instance", "__name__", "job_name"));
            final List<double[]> values = new ArrayList<>();
            final JsonNode points = result.has("values") ? result.path("values") : JSON.createArrayNode()
                .add(result.path("value"));
            for (final JsonNode point : points)
            {
                values.add(new double[] {point.get(0).asDouble(), Double.parseDouble(point.get(1).asText())});
            }
            series.put(labels.isEmpty() ? "{}" : labels.toString(), values);
        }
        return series;
    }

    private static List<String> replicas(final Map<String, List<double[]>> series)
    {
        final List<String> out = new ArrayList<>();
        for (final String labels : series.keySet())
        {
            out.add(labels.replaceAll(".*replica=([^,}]*).*", "$1"));
        }
        return out;
    }

    /** The time of the first event of each kind in run-events.jsonl. */
    private static Map<String, Long> eventTimes(final Path file) throws IOException
    {
        final Map<String, Long> times = new HashMap<>();
        for (final String line : Files.readAllLines(file))
        {
            final JsonNode event = JSON.readTree(line);
            times.putIfAbsent(event.get("event").asText(), event.get("time_ms").asLong());
        }
        return times;
    }
}
