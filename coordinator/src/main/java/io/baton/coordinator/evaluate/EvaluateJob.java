package io.baton.coordinator.evaluate;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.common.store.HadoopConf;
import io.baton.common.store.StagedFile;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.coordinator.spark.BarrierLauncher;
import io.baton.coordinator.spark.BarrierStageTasks;
import io.baton.coordinator.spark.SlotCheck;
import io.baton.coordinator.spark.SparkJobLabel;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.export.ModelVerifier;
import io.baton.trainer.run.Evaluator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/** The driver of {@code baton evaluate}: one barrier stage of evaluating replicas; returns rank 0's report. */
public final class EvaluateJob
{
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);

    private final BatonConfig config;
    private final JavaSparkContext providedContext;

    public EvaluateJob(final BatonConfig config)
    {
        this(config, null);
    }

    /**
     * @param context the caller's Spark context, used as it is and never stopped; null = a context created from
     *                {@code cluster.*} and stopped at the end.
     */
    public EvaluateJob(final BatonConfig config, final JavaSparkContext context)
    {
        this.config = config;
        this.providedContext = context;
    }

    /** Evaluates without a progress line. */
    public Evaluator.Result run(final String modelUri)
    {
        return run(modelUri, new PrintWriter(PrintWriter.nullWriter()));
    }

    /** Evaluates, printing a progress line to {@code out} every {@code progress.interval} while samples are scored. */
    public Evaluator.Result run(final String modelUri, final PrintWriter out)
    {
        return run(modelUri, CheckpointModel.isCheckpoint(modelUri) ? List.of() : zipClasses(modelUri), out);
    }

    /**
     * As above, refusing evaluation data whose class i is not {@code modelClasses}' class i (nothing is checked when
     * either has no names).
     */
    public Evaluator.Result run(final String modelUri, final List<String> modelClasses, final PrintWriter out)
    {
        final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        final int samples;
        try (BatchSource val = DataSources.open(config, DataSources.VAL))
        {
            samples = val.size();
            ModelClasses.requireMatch(modelClasses, val.classNames(),
                "the evaluation data " + config.get(TrainerKeys.DATA_PATH), false);
        }
        final JavaSparkContext sc = providedContext != null ? providedContext : SparkContexts.create(config);
        try
        {
            SlotCheck.require(sc, replicas, config.get(CoordinatorKeys.CLUSTER_SLOT_WAIT));
            final LongAccumulator scored = sc.sc().longAccumulator("baton.evaluate.scored");
            final List<EvaluationReport> reports;
            final BarrierStageTasks tasks = new BarrierStageTasks("baton evaluate ");
            sc.sc().addSparkListener(tasks);
            try (EvaluateProgress progress = new EvaluateProgress(sc, scored, samples, out,
                config.get(CoordinatorKeys.PROGRESS_INTERVAL)))
            {
                reports = BarrierLauncher.run(sc, replicas,
                    SparkJobLabel.evaluate(config.get(CommonKeys.JOB_NAME), replicas, modelUri),
                    new EvaluateReplica(config.render(), modelUri, System.currentTimeMillis(), scored));
            }
            catch (final Exception ex)
            {
                // Spark's SparkException is checked in Java's eyes but thrown from Scala undeclared, so Exception.
                // The other replicas end when their collective times out; until then they hold compute threads and
                // ports of their JVMs, which the caller's next job there would share.
                tasks.awaitEnded(sc, config.get(CommonKeys.COLLECTIVE_TIMEOUT).plusSeconds(5), running -> LOG.info(
                    "evaluation failed; waiting up to its collective timeout for {} replica(s) to end", running));
                throw ex;
            }
            finally
            {
                sc.sc().removeSparkListener(tasks);
            }
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
            if (providedContext == null)
            {
                sc.stop();
            }
        }
    }

    /** The class names recorded in a model zip. */
    private static List<String> zipClasses(final String modelUri)
    {
        final org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(DataSources.toUri(modelUri));
        try (InputStream in = path.getFileSystem(HadoopConf.fresh()).open(path))
        {
            return ModelClasses.read(in);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("--model " + modelUri + " cannot be read: " + ex.getMessage(), ex);
        }
    }

    /**
     * What {@code --model} names: a model zip, a run directory with its model and configuration, a checkpoint
     * directory ({@code .../checkpoints/ckpt-<step>}), or a run directory without a model yet (its newest valid
     * checkpoint).
     *
     * @param modelUri   the model zip or checkpoint directory.
     * @param runConfig  the run's recorded configuration (run directory, a run.conf beside the zip, or the
     *                   checkpoint's own), or null.
     * @param imageSize  the input size the model was exported for (its verification sidecar), or null if unknown.
     * @param note       what was chosen when it is not what was named (a run's newest checkpoint), or null.
     */
    public record Target(String modelUri, String runConfig, Integer imageSize, String note)
    {
        /**
         * What the model's outputs mean: the names recorded in its zip, else (a checkpoint, or a zip from before they
         * were recorded) the classes of the data its run was trained on, if that data is still readable; else none.
         */
        public List<String> classes()
        {
            if (!CheckpointModel.isCheckpoint(modelUri))
            {
                final List<String> recorded = zipClasses(modelUri);
                if (!recorded.isEmpty())
                {
                    return recorded;
                }
            }
            final BatonConfig run = loadedRunConfig();
            if (run == null)
            {
                return List.of();
            }
            try
            {
                return DataSources.classNames(run);
            }
            catch (final RuntimeException ex)
            {
                return List.of(); // the run's data was moved or deleted: nothing to compare with
            }
        }

        /**
         * The input size the model was made for: the one it was exported for, else its run's {@code data.image-size};
         * null when neither is known (or the run's configuration no longer loads).
         */
        public Integer trainedImageSize()
        {
            if (imageSize != null)
            {
                return imageSize;
            }
            final BatonConfig run = loadedRunConfig();
            return run == null ? null : run.get(TrainerKeys.DATA_IMAGE_SIZE);
        }

        /** The run's recorded configuration, or null when there is none or it no longer loads (another version). */
        private BatonConfig loadedRunConfig()
        {
            if (runConfig == null)
            {
                return null;
            }
            try
            {
                return new ConfigLoader(ConfigDef.discover()).loadText(runConfig);
            }
            catch (final RuntimeException ex)
            {
                return null;
            }
        }

        public static Target resolve(final String location)
        {
            final RunDirectory run = new RunDirectory(location);
            if (run.exists(RunDirectory.MODEL))
            {
                return new Target(run.path(RunDirectory.MODEL).toString(), run.readText(RunDirectory.CONFIG), null,
                    null);
            }
            if (!run.fileSystemExists())
            {
                throw new IllegalArgumentException("--model " + location + " does not exist");
            }
            if (CheckpointModel.isCheckpoint(location) && run.isDirectory())
            {
                return new Target(location, CheckpointModel.configText(location), null, null);
            }
            if (run.isDirectory())
            {
                // Training still running, or stopped before its end: the newest checkpoint is the model so far.
                final CheckpointModel.Newest newest = run.exists(RunDirectory.CHECKPOINTS)
                    ? CheckpointModel.newestValid(location) : null;
                if (newest == null)
                {
                    throw new IllegalArgumentException("--model " + location + " is a directory without "
                        + RunDirectory.MODEL + " and without a valid checkpoint: not a run directory, or its training "
                        + "has not written a checkpoint yet");
                }
                return new Target(newest.location(), newest.configText(), null, "no " + RunDirectory.MODEL + " in "
                    + location + " (training not finished): evaluating its newest checkpoint, " + newest.location());
            }
            // A run's model.zip named directly is evaluated like its run directory: same data and image size.
            final org.apache.hadoop.fs.Path parent = new org.apache.hadoop.fs.Path(location).getParent();
            if (parent != null)
            {
                final RunDirectory beside = new RunDirectory(parent.toString());
                if (beside.exists(RunDirectory.CONFIG))
                {
                    return new Target(location, beside.readText(RunDirectory.CONFIG), null, null);
                }
            }
            return new Target(location, null, exportedImageSize(location), null);
        }

        /** Height of the input in the zip's verification sidecar when it is square, else null. */
        private static Integer exportedImageSize(final String location)
        {
            try (StagedFile zip = StagedFile.read(location))
            {
                final long[] nchw = ModelVerifier.readSample(zip.local()).inputShape();
                return nchw.length == 4 && nchw[2] == nchw[3] ? Integer.valueOf((int)nchw[2]) : null;
            }
            catch (final IOException | RuntimeException ex)
            {
                return null; // not written by baton export: the configuration decides
            }
        }
    }
}
