package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.spark.BarrierLauncher;
import io.baton.coordinator.spark.SlotCheck;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * The driver program of {@code baton train}: plans the run, checks the cluster can hold every replica at once,
 * launches one barrier stage of replicas, shows progress, and checks and records what they report.
 *
 * <p>Threading: the caller's thread; blocks until training ends.
 */
public final class TrainJob
{
    private final BatonConfig config;
    private final PrintWriter out;

    public TrainJob(final BatonConfig config, final PrintWriter out)
    {
        this.config = config;
        this.out = out;
    }

    /** Sizes the data and plans the run without starting Spark. */
    public TrainPlan plan()
    {
        try (BatchSource train = DataSources.open(config, DataSources.TRAIN);
             BatchSource val = DataSources.open(config, DataSources.VAL))
        {
            return TrainPlan.of(config, train.size(), val.size(), train.numClasses());
        }
    }

    /** Trains; returns the replicas' reports in rank order. */
    public List<ReplicaReport> run(final TrainPlan plan)
    {
        final RunDirectory run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));
        run.mkdirs();
        run.writeText(RunDirectory.CONFIG, config.render());
        final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        final JavaSparkContext sc = SparkContexts.create(config);
        try
        {
            SlotCheck.require(sc, replicas, config.get(CoordinatorKeys.CLUSTER_SLOT_WAIT));
            out.printf("training on %s: %d replicas, run directory %s%n", sc.master(), replicas, run.uri());
            out.flush();
            final List<ReplicaReport> reports;
            try (ProgressMonitor progress = new ProgressMonitor(run, plan, out,
                config.get(CoordinatorKeys.PROGRESS_INTERVAL)))
            {
                reports = BarrierLauncher.run(sc, replicas,
                    "baton train " + config.get(TrainerKeys.MODEL_ARCH) + " x" + replicas,
                    new TrainReplica(config.render(), System.currentTimeMillis()));
            }
            check(reports);
            run.writeText(RunDirectory.SUMMARY, summaryJson(reports.get(0), plan));
            return reports;
        }
        finally
        {
            sc.stop();
        }
    }

    private static void check(final List<ReplicaReport> reports)
    {
        final long checksum = reports.get(0).paramsChecksum();
        for (final ReplicaReport report : reports)
        {
            if (report.paramsChecksum() != checksum)
            {
                throw new IllegalStateException("replicas ended with different parameters: rank 0 checksum "
                    + Long.toHexString(checksum) + ", rank " + report.rank() + " "
                    + Long.toHexString(report.paramsChecksum()));
            }
        }
    }

    static String summaryJson(final ReplicaReport r, final TrainPlan plan)
    {
        return String.format(Locale.ROOT,
            "{\"steps\":%d,\"seconds\":%.3f,\"last_loss\":%s,\"val_top1\":%s,\"val_top5\":%s,\"val_loss\":%s,"
                + "\"val_samples\":%d,\"world_size\":%d,\"global_batch\":%d,\"epochs\":%d,\"params_checksum\":\"%s\"}%n",
            r.steps(), r.seconds(), r.lastLoss(), r.evalTop1(), r.evalTop5(), r.evalLoss(), r.evalSamples(),
            plan.worldSize(), plan.globalBatch(), plan.epochs(), Long.toHexString(r.paramsChecksum()));
    }
}
