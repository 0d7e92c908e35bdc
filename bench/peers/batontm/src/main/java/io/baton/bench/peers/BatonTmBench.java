package io.baton.bench.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.api.Baton;
import io.baton.api.dl4j.BatonTrainingMaster;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;

import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code batontm} system of the peer benchmark: the same program as PeerBench's {@code paramavg} and
 * {@code shared} (a {@link SparkComputationGraph} over a training master, one {@code fit} per epoch on that epoch's
 * RDD of pre-batched DataSets, the same model, initial weights, samples, flips, partitions, batch per worker, plain
 * SGD at the same learning rate), with {@link BatonTrainingMaster} as the training master: 2 replicas, one epoch per
 * {@code fit}. Runs on Baton's classpath (Aeron 1.51), which the peers' JVM cannot load; built by
 * {@code bench/peers/run.sh} with javac from this file and {@link PeerCommon}.
 *
 * <p>{@code images_per_sec} is the wall time of {@code fit(rdd)}, as for the peers (here it includes staging the RDD,
 * each epoch's RDD being a new one, starting the replicas' barrier stage, the epoch-end checkpoint and writing the
 * model; the master's own "fit n: ..." line in the log splits it; no end-of-run evaluation, the master's default);
 * the extra field
 * {@code baton_step_images_per_sec} is the same images over the sum of Baton's {@code step_ms} in that fit's
 * metrics.jsonl, as the {@code baton} (CLI) row is computed. {@code train_loss} is the mean of that fit's step losses.
 * After the last epoch DL4J's {@code evaluate} runs on the held-out images as a check ({@code DL4J-EVALUATE} line).
 *
 * <p>Usage: as PeerBench.
 */
public final class BatonTmBench
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private BatonTmBench()
    {
    }

    public static void main(final String[] args)
    {
        // Exits explicitly: on a local master the replicas' barrier tasks run in this JVM, and Spark's
        // BarrierTaskContext leaves a non-daemon timer thread ("Barrier task timer for barrier() calls.") that keeps
        // the JVM alive after main returns (the CLI exits explicitly too).
        int status = 0;
        try
        {
            run(args);
        }
        catch (final Throwable t)
        {
            t.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    private static void run(final String[] args) throws Exception
    {
        final PeerCommon bench = new PeerCommon(args);
        final String runDir = new File(bench.out, "batontm-run").toURI().toString();
        final SparkConf conf = Baton.sparkConf(new SparkConf().setAppName("peer-batontm").setMaster(bench.master)
            .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.enabled", "false"));
        final StorageLevel storage = StorageLevel.MEMORY_ONLY();
        try (JavaSparkContext sc = new JavaSparkContext(conf))
        {
            final BatonTrainingMaster batonTm = new BatonTrainingMaster.Builder(bench.perWorker())
                .replicas(PeerCommon.WORKERS)
                .epochs(1)
                .learningRate(bench.lr).baseBatch(bench.sampler.globalBatch())
                .warmupEpochs(0).momentum(0).weightDecay(0)
                .seed(bench.seed)
                // Plain SGD at a constant rate, as the peers' Sgd(lr) and the baton row's keys.
                .set("optim.schedule", "constant").set("optim.nesterov", false).set("optim.label-smoothing", 0.0)
                .set("optim.max-grad-norm", 0.0).set("optim.lars", false)
                .set("health.every", 0).set("collective.host", "127.0.0.1")
                .runDirectory(runDir)
                .build();
            final TrainingMaster<?, ?> tm = batonTm;
            final SparkComputationGraph sparkNet = new SparkComputationGraph(sc, bench.net, tm);
            for (int epoch = 0; epoch < bench.epochs; epoch++)
            {
                final long nanos = bench.timedFit(sc, sparkNet, epoch, storage);
                final long images = bench.imagesPerEpoch(epoch);
                // Baton's own step timings and losses of this fit (one Baton run per fit).
                double stepMs = 0;
                double lossSum = 0;
                int steps = 0;
                final Path metrics = Path.of(URI.create(batonTm.runDirectoryOfFit(epoch + 1))).resolve("metrics.jsonl");
                for (final String line : Files.readAllLines(metrics))
                {
                    if (line.isBlank())
                    {
                        continue;
                    }
                    final JsonNode row = JSON.readTree(line);
                    if (row.has("loss") && row.has("step_ms"))
                    {
                        stepMs += row.get("step_ms").asDouble();
                        lossSum += row.get("loss").asDouble();
                        steps++;
                    }
                }
                bench.report(sparkNet.getNetwork(), epoch, images, nanos, lossSum / Math.max(1, steps),
                    String.format(Locale.ROOT, "baton_step_images_per_sec=%.1f baton_steps=%d fit_seconds=%.2f "
                        + "last_step_loss(getScore)=%.4f", images / (stepMs / 1000.0), steps, nanos / 1e9,
                        sparkNet.getScore()));
            }
            // DL4J's own evaluate on the trained network, over an RDD of the held-out images.
            final List<DataSet> held = new ArrayList<>();
            for (int start = 0; start < bench.val.length; start += 64)
            {
                final int[] ids = java.util.Arrays.copyOfRange(bench.val, start, Math.min(bench.val.length,
                    start + 64));
                final io.baton.trainer.data.BatchSource.Batch b = bench.all.load(ids, 0, false);
                held.add(new DataSet(b.features(), b.labels()));
            }
            final Evaluation eval = sparkNet.evaluate(sc.parallelize(held, PeerCommon.WORKERS));
            System.out.printf(Locale.ROOT, "DL4J-EVALUATE system=batontm held_out_accuracy=%.4f examples=%d%n",
                eval.accuracy(), held.stream().mapToInt(DataSet::numExamples).sum());
            tm.deleteTempFiles(sc);
        }
    }
}
