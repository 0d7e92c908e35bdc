package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.lock.DirectoryLock;
import io.baton.coordinator.metrics.TrainMetrics;
import io.baton.coordinator.spark.BarrierLauncher;
import io.baton.coordinator.spark.BarrierTaskExecutors;
import io.baton.coordinator.spark.NotEnoughSlotsException;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.shard.ShardFormat;
import io.baton.trainer.model.UserGraphs;
import io.baton.trainer.run.TrainOutcome;
import io.baton.trainer.syncbn.BnGroups;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static io.baton.coordinator.train.RunEvents.fields;
import static io.baton.coordinator.train.StageFailures.rootMessage;

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
        ResumeResolver.Found from = resolver.initial(resume);
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
        final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        final int batch = config.get(TrainerKeys.TRAIN_GLOBAL_BATCH);
        final StageSpecs specs = new StageSpecs(config, plan);
        final JavaSparkContext sc = providedContext != null ? providedContext : SparkContexts.create(config);
        // Before anything in the run is written: a cluster (a YARN queue) that cannot run the replicas is refused in
        // one line with the run as it was (NotEnoughSlotsException: exit 2).
        final int firstAvailable;
        try
        {
            firstAvailable = ReplicaSlots.available(config, sc, replicas);
        }
        catch (final RuntimeException ex)
        {
            if (providedContext == null)
            {
                sc.stop();
            }
            throw ex;
        }
        // Only once the resume request is known to be good: a refused one leaves an existing run's run.conf as it was.
        run.writeText(RunDirectory.CONFIG, config.render());
        final BarrierTaskExecutors executors = new BarrierTaskExecutors("baton train ");
        sc.sc().addSparkListener(executors);
        try (ProgressMonitor progress = new ProgressMonitor(run, plan, out,
            config.get(CoordinatorKeys.PROGRESS_INTERVAL)))
        {
            metrics.attach(sc);
            if (metrics.url() != null)
            {
                out.println("Prometheus metrics at " + metrics.url());
            }
            final long generationBase = System.currentTimeMillis();
            double lrScale = from == null ? 1.0 : from.position().lrScale();
            int nanRollbacks = from == null ? 0 : from.position().nanRollbacks();
            int restarts = 0;
            boolean appendMetrics = from != null;
            events.record(from == null ? "start" : "resume", fields("step", from == null ? 0L
                : from.position().step(), "checkpoint", from == null ? "none" : from.path()), false);
            for (int stage = 0; ; stage++)
            {
                final int available = stage == 0 ? firstAvailable : ReplicaSlots.availableLater(config, sc, replicas);
                final ElasticPlan shape = ElasticPlan.of(batch, replicas, available,
                    config.get(TrainerKeys.MODEL_SYNCBN) ? config.get(TrainerKeys.SYNCBN_GROUP_SIZE) : 0);
                final StageSpec spec = specs.spec(from, shape, lrScale, nanRollbacks, generationBase + stage,
                    appendMetrics);
                announce(stage, from, shape, available, spec, sc, events, batch, metrics);
                metrics.onStage(shape.worldSize());
                final List<ReplicaReport> reports;
                try
                {
                    reports = BarrierLauncher.run(sc, shape.worldSize(), specs.label(stage, spec, shape),
                        new TrainTask(config.render(), spec, metrics.accumulator()));
                }
                catch (final Exception ex)
                {
                    // Spark's SparkException is checked in Java's eyes but thrown from Scala without a declaration.
                    if (sc.sc().isStopped())
                    {
                        // Ctrl-C or SIGTERM (Spark's shutdown hook stopped the context): no relaunch can follow.
                        events.record("interrupted", fields("stage", stage, "error", rootMessage(ex)), true);
                        throw new IllegalStateException("training interrupted: the Spark context was stopped ("
                            + rootMessage(ex) + "); the same command resumes from the newest checkpoint", ex);
                    }
                    restarts++;
                    final int max = config.get(CoordinatorKeys.RECOVERY_MAX_RESTARTS);
                    events.record("stage-failed", fields("stage", stage, "restart", restarts, "max_restarts", max,
                        "error", rootMessage(ex)), true);
                    // A hung replica (stopped, swapping, deadlocked) keeps its slot until Spark's heartbeat timeout
                    // (120 s); its executor is killed at once so the relaunch gets a fresh one.
                    StageFailures.killSilentExecutors(sc, executors, ex, events, stage, out);
                    // Also before giving up: a task still ending may be publishing a checkpoint into the run.
                    StageFailures.awaitFailedStageTasks(sc, config.get(CommonKeys.COLLECTIVE_TIMEOUT).plusSeconds(5));
                    if (ShardFormat.isDamageReport(rootMessage(ex)))
                    {
                        // Damaged input fails every relaunch at the same sample: stop now, naming it.
                        throw new IllegalStateException("training stopped on damaged data, which a relaunch would "
                            + "read again (" + rootMessage(ex) + "); restore or prepare the data again, then the "
                            + "same command resumes from the newest checkpoint", ex);
                    }
                    if (restarts > max)
                    {
                        throw new IllegalStateException("training failed " + restarts + " time(s), more than "
                            + CoordinatorKeys.RECOVERY_MAX_RESTARTS.name() + " = " + max + "; last error: "
                            + rootMessage(ex), ex);
                    }
                    metrics.onStageRelaunch();
                    final Duration wait = StageFailures.backoff(config, restarts);
                    out.printf("stage failed (%s); restart %d of %d from the newest checkpoint in %d ms%n",
                        rootMessage(ex), restarts, max, wait.toMillis());
                    out.flush();
                    DriverSleep.sleep(wait);
                    from = latestOrInitial(resolver, from);
                    appendMetrics = true;
                    continue;
                }
                final ReplicaReport r0 = reports.get(0);
                appendMetrics = true;
                if (r0.outcome() == TrainOutcome.Kind.COMPLETED)
                {
                    RunSummary.check(reports);
                    run.writeText(RunDirectory.SUMMARY, RunSummary.summaryJson(r0, plan));
                    events.record("completed", fields("step", r0.nextStep(), "params_checksum",
                        Long.toHexString(r0.paramsChecksum())), false);
                    events.flush();
                    return reports;
                }
                if (r0.outcome() == TrainOutcome.Kind.NON_FINITE)
                {
                    nanRollbacks++;
                    final int max = config.get(CoordinatorKeys.RECOVERY_NAN_RETRIES);
                    events.record("non-finite", fields("step", r0.nextStep(), "rollback", nanRollbacks,
                        "max_rollbacks", max, "diagnosis", r0.diagnosis()), true);
                    if (nanRollbacks > max)
                    {
                        throw new TrainingDivergedException("training diverged: " + r0.diagnosis() + " (gave up after "
                            + max + " rollback(s) with the learning rate x " + lrScale + "; "
                            + CoordinatorKeys.RECOVERY_NAN_RETRIES.name() + " = " + max + ")");
                    }
                    metrics.onNonFiniteRollback();
                    lrScale *= config.get(CoordinatorKeys.RECOVERY_NAN_LR_FACTOR);
                    out.printf("non-finite step %d: rolling back to the newest checkpoint with the learning rate x "
                        + "%s (rollback %d of %d)%n", r0.nextStep(), lrScale, nanRollbacks, max);
                    out.flush();
                    from = latestOrInitial(resolver, from);
                    continue;
                }
                // STOPPED at a checkpoint boundary while running with fewer replicas: the next stage may grow back.
                from = latestOrInitial(resolver, from);
                restarts = 0;
            }
        }
        finally
        {
            // A failing run: what it kept of its record goes out if the store is back (the run's error is thrown).
            events.flushQuietly(Duration.ofSeconds(10));
            sc.sc().removeSparkListener(executors);
            metrics.detach();
            if (providedContext == null)
            {
                sc.stop();
            }
        }
    }

    private void announce(final int stage, final ResumeResolver.Found from, final ElasticPlan shape,
        final int available, final StageSpec spec, final JavaSparkContext sc, final RunEvents events, final int batch,
        final TrainMetrics metrics)
    {
        final int configured = config.get(TrainerKeys.TRAIN_REPLICAS);
        if (shape.worldSize() != configured)
        {
            final int groupSize = config.get(TrainerKeys.SYNCBN_GROUP_SIZE);
            final int groups = config.get(TrainerKeys.MODEL_SYNCBN) && groupSize > 0
                ? BnGroups.groupCount(configured, groupSize) : 0;
            final String text = String.format(Locale.ROOT, "ELASTIC: only %d of %d replicas can run; continuing with "
                    + "%s%s%s", available, configured, shape.describe(), groups > 0 ? " (the " + groups
                    + " SyncBatchNorm groups kept, " + shape.worldSize() / groups + " replica(s) each)" : "",
                shape.batchChanged(batch)
                    ? " (global batch " + batch + " not divisible: linear LR scaling, re-warmup over "
                    + spec.rewarmupSteps() + " steps)" : " (global batch kept)");
            out.println(text);
            LOG.warn(text);
            events.record("elastic", fields("replicas", shape.worldSize(), "configured_replicas", configured,
                "global_batch", shape.globalBatch(), "lr_scale", shape.lrScale(), "start_step", spec.startStep(),
                "rewarmup_steps", spec.rewarmupSteps(), "stop_at_step", spec.stopAtStep()), true);
            metrics.onElasticStage();
        }
        out.printf("training on %s: %d replicas (stage %d), global batch %d, from step %d (%s), run directory %s%n",
            sc.master(), shape.worldSize(), stage, shape.globalBatch(), spec.startStep(),
            from == null ? "initial weights" : from.path(), config.get(CoordinatorKeys.RUN_DIR));
        out.flush();
    }

    private ResumeResolver.Found latestOrInitial(final ResumeResolver resolver, final ResumeResolver.Found previous)
    {
        final ResumeResolver.Found latest = resolver.latest();
        return latest != null ? latest : previous;
    }
}
