package io.baton.coordinator.evaluate;

import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.spark.SparkContexts;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluateProgressTest
{
    @Test
    void theDriverSeesARunningTasksScoredSamplesWithItsHeartbeatAndTheFinalCountAtItsEnd() throws Exception
    {
        // progress.interval 1s makes the executors' heartbeat 1 s (Spark's default is 10 s).
        final JavaSparkContext sc = SparkContexts.create(new ConfigLoader(ConfigDef.discover()).load(null,
            List.of("train.replicas=1", "progress.interval=1s")));
        try
        {
            assertEquals("1000ms", sc.getConf().get("spark.executor.heartbeatInterval"));
            final LongAccumulator scored = sc.sc().longAccumulator("scored");
            try (EvaluateProgress progress = new EvaluateProgress(sc, scored, 12, new PrintWriter(new StringWriter()),
                Duration.ofSeconds(1)))
            {
                // A task that has scored 5 samples and is still at work for a while (6 heartbeats).
                final CompletableFuture<Void> job = CompletableFuture.runAsync(() ->
                    sc.parallelize(List.of(1), 1).foreach(x ->
                    {
                        scored.add(5);
                        Thread.sleep(6_000);
                        scored.add(7);
                    }));
                final long deadlineNs = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (progress.scored() != 5 && System.nanoTime() < deadlineNs)
                {
                    Thread.sleep(50);
                }
                assertEquals(5, progress.scored(), "reported while the task runs");
                job.get(60, TimeUnit.SECONDS);
                final long endNs = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (progress.scored() != 12 && System.nanoTime() < endNs)
                {
                    Thread.sleep(50); // the task-end event is delivered on the listener bus, after the job returns
                }
                assertEquals(12, progress.scored(), "the task's final count");
            }
        }
        finally
        {
            sc.stop();
        }
    }

    @Test
    void theLineGivesThePaceSinceTheFirstReportAndTheEta()
    {
        final JavaSparkContext sc = SparkContexts.create(new ConfigLoader(ConfigDef.discover()).load(null,
            List.of("train.replicas=1")));
        try (EvaluateProgress progress = new EvaluateProgress(sc, sc.sc().longAccumulator("scored"), 50_000,
            new PrintWriter(new StringWriter()), Duration.ofHours(1)))
        {
            assertEquals("evaluate: 1000/50000 samples (2%)  ? samples/s  ETA ?", progress.line(1000, 1000, 0));
            // 9000 samples in 30 s since the first report: 300/s, 40000 to go in 133 s.
            assertEquals("evaluate: 10000/50000 samples (20%)  300.0 samples/s  ETA 2m13s",
                progress.line(10_000, 1000, 30));
        }
        finally
        {
            sc.stop();
        }
    }
}
