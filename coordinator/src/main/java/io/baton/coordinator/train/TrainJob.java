package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.lock.DirectoryLock;
import io.baton.coordinator.metrics.TrainMetrics;
import io.baton.coordinator.spark.NotEnoughSlotsException;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.model.UserGraphs;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.util.List;
import java.util.Set;

/**
 * The driver program of {@code baton train}: plans the run, picks the checkpoint to start from ({@code --resume}),
 * and runs barrier stages of replicas until training completes. A stage ends early when
 * <ul>
 *   <li>it fails (an executor died, a replica threw): relaunched from the newest valid checkpoint with a new
 *       communicator generation, after a back-off doubling from {@code recovery.backoff} up to
 *       {@code recovery.max-backoff}, at most {@code recovery.max-restarts} times;</li>
 *   <li>a step was non-finite (decided after the all-reduce, so every replica agrees): rolled back to the newest
 *       checkpoint with the learning rate multiplied by {@code recovery.nan-lr-factor}, at most
 *       {@code recovery.nan-retries} times, after which the run fails with the replicas' diagnosis naming the first
 *       residual block whose activations went non-finite or huge;</li>
 *   <li>it ran with fewer replicas than configured (elastic, {@code elastic.min-replicas}) and reached the next
 *       checkpoint: the driver then launches the next stage with as many replicas as slots allow again.</li>
 * </ul>
 * Every such event is printed, logged and appended to the run's {@code run-events.jsonl}. The job holds the run
 * directory's {@link DirectoryLock} throughout, so a second job on the same run is refused before it changes anything.
 *
 * <p>The job is the public face and the run's lock; the work is done by package-private parts: {@link TrainPlanner}
 * and {@link ConfigIdentities} before anything starts, {@link ResumeResolver} for the checkpoint to start from,
 * {@link StageLoop} for the stages (with {@link StageSpecs}, {@link ReplicaSlots}, {@link StageFailures}) and
 * {@link RunSummary} at the end; {@link RunDirectoryPreview} for {@code --dry-run}.
 *
 * <p>Threading: the caller's thread; blocks until training ends.
 */
public final class TrainJob
{
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    /** The user's configuration until a checkpoint is taken, then with the run's values of unset keys. */
    private BatonConfig config;
    /** Keys the user did not set ({@link BatonConfig#derived()}): a resumed run keeps its own values of these. */
    private final Set<String> unset;
    private final PrintWriter out;
    private final ResumeRequest resume;
    private final JavaSparkContext providedContext;
    private final TrainPlanner planner;

    public TrainJob(final BatonConfig config, final PrintWriter out)
    {
        this(config, out, ResumeRequest.auto());
    }

    public TrainJob(final BatonConfig config, final PrintWriter out, final ResumeRequest resume)
    {
        this(config, out, resume, null);
    }

    /**
     * @param context the caller's Spark context, used as it is and never stopped; null = the job creates its own from
     *                {@code cluster.*} and stops it at the end.
     */
    public TrainJob(final BatonConfig config, final PrintWriter out, final ResumeRequest resume,
        final JavaSparkContext context)
    {
        final BatonConfig withData = ConfigIdentities.withDataIdentity(config);
        final String location = withData.get(TrainerKeys.MODEL_GRAPH);
        // Loaded once: for its identity here, then for the planner's checks and memory estimate.
        final ComputationGraph userGraph = location == null ? null : UserGraphs.load(location);
        this.config = ConfigIdentities.withModelIdentity(withData, userGraph);
        this.planner = new TrainPlanner(userGraph);
        this.unset = config.derived().keySet();
        this.out = out;
        this.resume = resume;
        this.providedContext = context;
    }

    /** The configuration this job trains with ({@code data.identity} and {@code model.graph-identity} set). */
    public BatonConfig config()
    {
        return config;
    }

    /**
     * For a user's model ({@code model.graph}): what {@link #plan()} found worth saying (its size and the DL4J
     * training settings Baton's optimiser replaces), or null.
     */
    public String modelNote()
    {
        return planner.modelNote();
    }

    /**
     * A warning from {@link #plan()} when the replicas of a local job may not fit this JVM's native memory, or null.
     */
    public String memoryWarning()
    {
        return planner.memoryWarning();
    }

    /** {@code data.identity} of this job's data ("" for generated images). */
    public String dataIdentity()
    {
        return config.get(TrainerKeys.DATA_IDENTITY);
    }

    /**
     * Sizes the data and plans the run without starting Spark; for a local master, also checks that the replicas fit
     * this JVM's native memory ({@link MemoryPreflight}).
     */
    public TrainPlan plan()
    {
        return planner.plan(config);
    }

    /**
     * For {@code --dry-run}: what training would do with the run directory, read without changing anything (the
     * checkpoints are listed, not verified; a corrupt newest one would be skipped then).
     */
    public String runDirectoryPlan()
    {
        return RunDirectoryPreview.describe(config.get(CoordinatorKeys.RUN_DIR), resume);
    }

    /**
     * Trains (resuming as requested); returns the replicas' reports of the completing stage in rank order, or none
     * when the run was already complete (said on the output).
     */
    public List<ReplicaReport> run(final TrainPlan plan)
    {
        final RunDirectory run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));
        final boolean fresh = !run.isDirectory();
        try
        {
            run.mkdirs();
        }
        catch (final java.io.UncheckedIOException ex)
        {
            // A file where the run should be, a parent that is a file, no permission: the configuration's to fix.
            throw new IllegalArgumentException(CoordinatorKeys.RUN_DIR.name() + " = " + config.get(
                CoordinatorKeys.RUN_DIR) + ": " + ex.getMessage(), ex);
        }
        // Before anything in the run changes: a second job on it would delete this one's checkpoints.
        try
        {
            try (DirectoryLock lock = DirectoryLock.acquire(run.fileSystem(), new Path(run.uri()), "baton train",
                config.get(CoordinatorKeys.RUN_LOCK_STALE_AFTER), config.get(CoordinatorKeys.RUN_LOCK_UNSAFE_STORE));
                 // Before the run's files and Spark: a metrics port in use is refused first, in one line.
                 TrainMetrics metrics = TrainMetrics.start(config, run))
            {
                return runLocked(plan, run, metrics);
            }
        }
        catch (final NotEnoughSlotsException ex)
        {
            if (fresh)
            {
                // Refused before anything was written: the directory this job made (empty once its lock is gone).
                deleteIfEmpty(run);
            }
            throw ex;
        }
    }

    private static void deleteIfEmpty(final RunDirectory run)
    {
        try
        {
            final Path dir = new Path(run.uri());
            if (run.fileSystem().listStatus(dir).length == 0)
            {
                run.fileSystem().delete(dir, false);
            }
        }
        catch (final java.io.IOException ex)
        {
            LOG.warn("could not remove the empty run directory {}: {}", run.uri(), ex.toString());
        }
    }

    private List<ReplicaReport> runLocked(final TrainPlan plan, final RunDirectory run, final TrainMetrics metrics)
    {
        final RunEvents events = new RunEvents(run);
        final ResumeResolver resolver = new ResumeResolver(config, unset, run, out, events);
        final ResumeResolver.Found from = resolver.initial(resume);
        if (resolver.config() != config)
        {
            // The run keeps its own values of keys the user did not set (e.g. 224x224 from before the image size
            // was derived): check the memory again for them.
            config = resolver.config();
            final String warning = TrainPlanner.checkMemory(config, plan, null);
            if (warning != null)
            {
                out.println(warning);
                out.flush();
            }
        }
        if (from != null && from.position().step() >= plan.totalSteps() && run.exists(RunDirectory.MODEL)
            && run.exists(RunDirectory.SUMMARY))
        {
            // Launching would restore the final checkpoint, train nothing and overwrite the run's summary with an
            // empty stage's.
            out.printf("run %s is already complete: step %d of %d (%s), its model is %s; nothing to train. "
                + "--resume never trains it again from the start%n", config.get(CoordinatorKeys.RUN_DIR),
                from.position().step(), plan.totalSteps(), from.path(), run.path(RunDirectory.MODEL));
            out.flush();
            return List.of();
        }
        return new StageLoop(config, plan, run, metrics, events, resolver, out, providedContext).run(from);
    }
}
