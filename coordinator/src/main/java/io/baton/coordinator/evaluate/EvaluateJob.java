package io.baton.coordinator.evaluate;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.spark.BarrierLauncher;
import io.baton.coordinator.spark.SlotCheck;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.run.Evaluator;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.List;

/** The driver of {@code baton evaluate}: one barrier stage of evaluating replicas; returns rank 0's report. */
public final class EvaluateJob
{
    private final BatonConfig config;

    public EvaluateJob(final BatonConfig config)
    {
        this.config = config;
    }

    public Evaluator.Result run(final String modelUri)
    {
        final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        DataSources.requireReadable(config, DataSources.VAL);
        final JavaSparkContext sc = SparkContexts.create(config);
        try
        {
            SlotCheck.require(sc, replicas, config.get(CoordinatorKeys.CLUSTER_SLOT_WAIT));
            final List<EvaluationReport> reports = BarrierLauncher.run(sc, replicas, "baton evaluate " + modelUri,
                new EvaluateReplica(config.render(), modelUri, System.currentTimeMillis()));
            for (final EvaluationReport report : reports)
            {
                if (!report.result().equals(reports.get(0).result()))
                {
                    throw new IllegalStateException("replicas disagree on the evaluation: " + reports);
                }
            }
            return reports.get(0).result();
        }
        finally
        {
            sc.stop();
        }
    }

    /** What {@code --model} names: a model zip, or a run directory with its model and configuration. */
    public record Target(String modelUri, String runConfig)
    {
        public static Target resolve(final String location)
        {
            final RunDirectory run = new RunDirectory(location);
            if (run.exists(RunDirectory.MODEL))
            {
                return new Target(run.path(RunDirectory.MODEL).toString(), run.readText(RunDirectory.CONFIG));
            }
            if (!new RunDirectory(location).fileSystemExists())
            {
                throw new IllegalArgumentException("--model " + location + " does not exist");
            }
            return new Target(location, null);
        }
    }
}
