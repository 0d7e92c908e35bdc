package io.baton.coordinator.train;

import io.baton.coordinator.spark.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code baton train} then {@code baton evaluate} as a user runs them, each in its own driver JVM, on a Spark
 * local-cluster whose two executors are separate JVMs: the replicas must find each other (training through the
 * host-shared Aeron driver, evaluation over UDP between embedded drivers), train a learnable generated data set
 * (loss falls) and evaluate every validation sample exactly once.
 */
@Tag("slow")
class MultiJvmTrainTest
{
    private static final Pattern EVAL = Pattern.compile("top1=([0-9.]+) top5=([0-9.]+) samples=(\\d+)");

    @Test
    void twoExecutorJvmsTrainThenEvaluate(@TempDir final Path work) throws Exception
    {
        final Path run = work.resolve("run");
        final String[] data = {
            "--set", "model.arch=resnet20", "--set", "data.image-size=16", "--set", "data.synthetic-classes=4",
            "--set", "data.synthetic-samples=256", "--set", "data.synthetic-val-samples=96",
            "--set", "train.global-batch=32", "--set", "train.replicas=2", "--set", "train.epochs=4",
            "--set", "optim.base-lr=0.05", "--set", "optim.base-batch=32", "--set", "optim.warmup-epochs=1",
            "--set", "optim.decay-epochs=[3]", "--set", "collective.host=127.0.0.1", "--set", "collective.timeout=60s",
            "--set", "progress.interval=1s", "--set", "cluster.slot-wait=90s"};
        // Training uses the host-shared driver, as executors sharing a host should: the first executor starts the
        // driver process, both attach, and the two replicas talk over IPC. (Evaluation below keeps the default,
        // an embedded driver per executor JVM over UDP.)
        final Path driverDir = work.resolve("aeron-shared");
        // The driver's Prometheus endpoint, scraped while training runs: the replicas' timings cross from the
        // executor JVMs with Spark's heartbeats (serialised, unlike local[N]).
        final int metricsPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            metricsPort = socket.getLocalPort();
        }
        final java.util.concurrent.atomic.AtomicReference<String> scraped = new java.util.concurrent.atomic
            .AtomicReference<>("");
        final Thread scraper = new Thread(() -> scrape(metricsPort, scraped), "test-scraper");
        scraper.setDaemon(true);
        scraper.start();
        final String train;
        try
        {
            train = run(work, "train.log", concat(new String[] {"train", "--master",
                LocalCluster.master(2, 1536), "--run-dir", run.toString(), "--set", "collective.driver=shared",
                "--set", "collective.driver-dir=" + driverDir, "--set", "metrics.port=" + metricsPort}, data));
        }
        finally
        {
            scraper.interrupt();
        }
        for (final String replica : List.of("0", "1"))
        {
            final Matcher count = Pattern.compile("baton_step_seconds_count\\{job_name=\"baton-job\",replica=\""
                + replica + "\"} (\\d+)").matcher(scraped.get());
            assertTrue(count.find() && Long.parseLong(count.group(1)) > 0, "replica " + replica + "'s step times "
                + "reach the driver's endpoint from its executor JVM:\n" + scraped.get());
        }
        assertTrue(train.contains("training on local-cluster[2,1,1536]: 2 replicas"), train);
        final Path driverLog = work.resolve("aeron-shared.log");
        final String driverText = Files.readString(driverLog, StandardCharsets.UTF_8);
        final Matcher started = Pattern.compile("\\(pid (\\d+)\\): started in ").matcher(driverText);
        assertTrue(started.find(), driverText);
        final long driverPid = Long.parseLong(started.group(1));
        assertTrue(!started.find(), "one driver process for both executors:\n" + driverText);
        // It would exit 30 s after its last client; stop it now so that the temp directory can go.
        ProcessHandle.of(driverPid).ifPresent((p) ->
        {
            p.destroy();
            p.onExit().orTimeout(20, TimeUnit.SECONDS).join();
        });
        assertTrue(train.contains("epoch 4/4"), "progress lines are printed:\n" + train);

        final List<String> metrics = Files.readAllLines(run.resolve(RunDirectory.METRICS));
        assertEquals(4 * (256 / 32), metrics.size(), "one metrics line per step");
        final double first = loss(metrics.get(0));
        final double last = loss(metrics.get(metrics.size() - 1));
        assertTrue(last < 0.5 * first, "loss should fall: " + first + " -> " + last);
        assertTrue(Files.exists(run.resolve(RunDirectory.MODEL)));

        final String evaluate = run(work, "evaluate.log", "evaluate", "--model", run.toString(), "--master",
            LocalCluster.master(2, 1536), "--set", "cluster.slot-wait=90s");
        final Matcher m = EVAL.matcher(evaluate);
        assertTrue(m.find(), evaluate);
        assertEquals(96, Integer.parseInt(m.group(3)), "every validation sample counted once");
        assertTrue(Double.parseDouble(m.group(1)) > 0.5, "top-1 above chance (0.25): " + m.group(1));
        final String summary = Files.readString(run.resolve(RunDirectory.SUMMARY));
        assertTrue(summary.contains("\"val_samples\":96"), summary);
    }

    /** Scrapes the endpoint every 300 ms until interrupted; keeps the newest body that has per-replica series. */
    private static void scrape(final int port, final java.util.concurrent.atomic.AtomicReference<String> body)
    {
        final java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        final java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build();
        while (!Thread.currentThread().isInterrupted())
        {
            try
            {
                final String text = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                if (text.contains("baton_step_seconds_count"))
                {
                    body.set(text);
                }
                Thread.sleep(300);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            catch (final IOException notServingYet)
            {
                // before the driver started the endpoint, or after it closed it
                try
                {
                    Thread.sleep(300);
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
            }
        }
    }

    private static double loss(final String json)
    {
        final Matcher m = Pattern.compile("\"loss\":([-0-9.Ee]+)").matcher(json);
        assertTrue(m.find(), json);
        return Double.parseDouble(m.group(1));
    }

    private static String run(final Path work, final String logName, final String... args)
        throws IOException, InterruptedException
    {
        final Path log = work.resolve(logName);
        final Process process = LocalCluster.cli(work, args).redirectOutput(log.toFile()).start();
        try
        {
            if (!process.waitFor(6, TimeUnit.MINUTES))
            {
                throw new AssertionError("baton " + args[0] + " did not finish in 6 minutes:\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
            }
            final String output = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, process.exitValue(), "baton " + args[0] + " failed:\n" + output);
            return output;
        }
        finally
        {
            process.destroyForcibly();
        }
    }

    private static String[] concat(final String[] a, final String[] b)
    {
        final String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
