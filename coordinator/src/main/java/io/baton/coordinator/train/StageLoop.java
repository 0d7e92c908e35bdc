package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.metrics.TrainMetrics;
import io.baton.coordinator.spark.BarrierLauncher;
import io.baton.coordinator.spark.BarrierStageTasks;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.shard.ShardFormat;
import io.baton.trainer.run.TrainOutcome;
import io.baton.trainer.syncbn.BnGroups;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import static io.baton.coordinator.train.RunEvents.fields;
import static io.baton.coordinator.train.StageFailures.rootMessage;

/**
 * The barrier stages of one locked run, from the checkpoint resolved for it until training completes: each stage
 * gets as many replicas as the slots allow ({@link ReplicaSlots}) and its {@link StageSpec}; a failed stage is
 * relaunched after a back-off ({@link StageFailures}), a non-finite step rolls back with a lower learning rate, and an
 * elastic stage that stopped at a checkpoint lets the next one grow back. Every such event is printed and recorded in
 * {@link RunEvents}. Owns the Spark context unless the caller provided one.
 *
 * <p>Threading: the driver's thread, which {@link #run} blocks until training ends; one instance per run, not reused
 * (the restart and rollback counts are its state).
 */
final class StageLoop
{
    /** TrainJob's category: these lines were always the job's, and are filtered and searched for as such. */
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

    private final BatonConfig config;
    private final TrainPlan plan;
    private final RunDirectory run;
    private final TrainMetrics metrics;
    private final RunEvents events;
    private final ResumeResolver resolver;
    private final PrintWriter out;
    /** The caller's Spark context, never stopped here; null = this loop creates its own and stops it at the end. */
    private final JavaSparkContext providedContext;
    private final StageSpecs specs;
    private final int replicas;
    private final int batch;

    /** The checkpoint the next stage starts from; null = the initial weights. */
    private ResumeResolver.Found from;
    private double lrScale;
    private int nanRollbacks;
    /** Failed stages since the last one that ended well; reset when an elastic stage stops at its checkpoint. */
    private int restarts;
    private boolean appendMetrics;

    StageLoop(final BatonConfig config, final TrainPlan plan, final RunDirectory run, final TrainMetrics metrics,
        final RunEvents events, final ResumeResolver resolver, final PrintWriter out,
        final JavaSparkContext providedContext)
    {
        this.config = config;
        this.plan = plan;
        this.run = run;
        this.metrics = metrics;
        this.events = events;
        this.resolver = resolver;
        this.out = out;
        this.providedContext = providedContext;
        this.specs = new StageSpecs(config, plan);
        this.replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
        this.batch = config.get(TrainerKeys.TRAIN_GLOBAL_BATCH);
    }

    /**
     * Trains from {@code initial} (null: the initial weights); returns the replicas' reports of the completing stage
     * in rank order.
     */
    List<ReplicaReport> run(final ResumeResolver.Found initial)
    {
        from = initial;
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
        final BarrierStageTasks tasks = new BarrierStageTasks("baton train ");
        sc.sc().addSparkListener(tasks);
        try (ProgressMonitor progress = new ProgressMonitor(run, plan, out,
            config.get(CoordinatorKeys.PROGRESS_INTERVAL)))
        {
            metrics.attach(sc);
            if (metrics.url() != null)
            {
                out.println("Prometheus metrics at " + metrics.url());
            }
            final long generationBase = System.currentTimeMillis();
            lrScale = from == null ? 1.0 : from.position().lrScale();
            nanRollbacks = from == null ? 0 : from.position().nanRollbacks();
            restarts = 0;
            appendMetrics = from != null;
            events.record(from == null ? "start" : "resume", fields("step", from == null ? 0L
                : from.position().step(), "checkpoint", from == null ? "none" : from.path()), false);
            for (int stage = 0; ; stage++)
            {
                final int available = stage == 0 ? firstAvailable : ReplicaSlots.availableLater(config, sc, replicas);
                final ElasticPlan shape = ElasticPlan.of(batch, replicas, available,
                    config.get(TrainerKeys.MODEL_SYNCBN) ? config.get(TrainerKeys.SYNCBN_GROUP_SIZE) : 0);
                final StageSpec spec = specs.spec(from, shape, lrScale, nanRollbacks, generationBase + stage,
                    appendMetrics);
                announce(stage, shape, available, spec, sc);
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
                    prepareRelaunch(ex, stage, sc, tasks);
                    continue;
                }
                final ReplicaReport r0 = reports.get(0);
                appendMetrics = true;
                if (r0.outcome() == TrainOutcome.Kind.COMPLETED)
                {
                    return completed(reports);
                }
                if (r0.outcome() == TrainOutcome.Kind.NON_FINITE)
                {
                    prepareRollback(r0);
                    continue;
                }
                // STOPPED at a checkpoint boundary while running with fewer replicas: the next stage may grow back.
                from = latestOrInitial();
                restarts = 0;
            }
        }
        finally
        {
            // A failing run: what it kept of its record goes out if the store is back (the run's error is thrown).
            events.flushQuietly(Duration.ofSeconds(10));
            sc.sc().removeSparkListener(tasks);
            metrics.detach();
            if (providedContext == null)
            {
                sc.stop();
            }
        }
    }

    /**
     * After stage {@code stage} failed with {@code ex}: throws if no relaunch can or should follow, else records the
     * failure, backs off and sets the checkpoint the relaunch starts from.
     */
    private void prepareRelaunch(final Exception ex, final int stage, final JavaSparkContext sc,
        final BarrierStageTasks tasks)
    {
        final String why = rootMessage(ex);
        if (sc.sc().isStopped())
        {
            // Ctrl-C or SIGTERM (Spark's shutdown hook stopped the context): no relaunch can follow.
            events.record("interrupted", fields("stage", stage, "error", why), true);
            throw new IllegalStateException("training interrupted: the Spark context was stopped ("
                + why + "); the same command resumes from the newest checkpoint", ex);
        }
        restarts++;
        final int max = config.get(CoordinatorKeys.RECOVERY_MAX_RESTARTS);
        events.record("stage-failed", fields("stage", stage, "restart", restarts, "max_restarts", max,
            "error", why), true);
        // A hung replica (stopped, swapping, deadlocked) keeps its slot until Spark's heartbeat timeout
        // (120 s); its executor is killed at once so the relaunch gets a fresh one.
        StageFailures.killSilentExecutors(sc, tasks, ex, events, stage, out);
        // Also before giving up: a task still ending may be publishing a checkpoint into the run.
        StageFailures.awaitFailedStageTasks(sc, tasks, config.get(CommonKeys.COLLECTIVE_TIMEOUT).plusSeconds(5));
        if (ShardFormat.isDamageReport(why))
        {
            // Damaged input fails every relaunch at the same sample: stop now, naming it.
            throw new IllegalStateException("training stopped on damaged data, which a relaunch would "
                + "read again (" + why + "); restore or prepare the data again, then the "
                + "same command resumes from the newest checkpoint", ex);
        }
        if (restarts > max)
        {
            throw new IllegalStateException("training failed " + restarts + " time(s), more than "
                + CoordinatorKeys.RECOVERY_MAX_RESTARTS.name() + " = " + max + "; last error: "
                + why, ex);
        }
        metrics.onStageRelaunch();
        final Duration wait = StageFailures.backoff(config, restarts);
        out.printf("stage failed (%s); restart %d of %d from the newest checkpoint in %d ms%n",
            why, restarts, max, wait.toMillis());
        out.flush();
        DriverSleep.sleep(wait);
        from = latestOrInitial();
        appendMetrics = true;
    }

    /**
     * After a stage ended on a non-finite step: throws {@link TrainingDivergedException} once the rollbacks are
     * spent, else lowers the learning rate and sets the checkpoint to roll back to.
     */
    private void prepareRollback(final ReplicaReport r0)
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
        from = latestOrInitial();
    }

    /** The completing stage's reports, checked and summarised into the run. */
    private List<ReplicaReport> completed(final List<ReplicaReport> reports)
    {
        final ReplicaReport r0 = reports.get(0);
        RunSummary.check(reports);
        run.writeText(RunDirectory.SUMMARY, RunSummary.summaryJson(r0, plan));
        events.record("completed", fields("step", r0.nextStep(), "params_checksum",
            Long.toHexString(r0.paramsChecksum())), false);
        events.flush();
        return reports;
    }

    private void announce(final int stage, final ElasticPlan shape, final int available, final StageSpec spec,
        final JavaSparkContext sc)
    {
        if (shape.worldSize() != replicas)
        {
            final int groupSize = config.get(TrainerKeys.SYNCBN_GROUP_SIZE);
            final int groups = config.get(TrainerKeys.MODEL_SYNCBN) && groupSize > 0
                ? BnGroups.groupCount(replicas, groupSize) : 0;
            final String text = String.format(Locale.ROOT, "ELASTIC: only %d of %d replicas can run; continuing with "
                    + "%s%s%s", available, replicas, shape.describe(), groups > 0 ? " (the " + groups
                    + " SyncBatchNorm groups kept, " + shape.worldSize() / groups + " replica(s) each)" : "",
                shape.batchChanged(batch)
                    ? " (global batch " + batch + " not divisible: linear LR scaling, re-warmup over "
                    + spec.rewarmupSteps() + " steps)" : " (global batch kept)");
            out.println(text);
            LOG.warn(text);
            events.record("elastic", fields("replicas", shape.worldSize(), "configured_replicas", replicas,
                "global_batch", shape.globalBatch(), "lr_scale", shape.lrScale(), "start_step", spec.startStep(),
                "rewarmup_steps", spec.rewarmupSteps(), "stop_at_step", spec.stopAtStep()), true);
            metrics.onElasticStage();
        }
        out.printf("training on %s: %d replicas (stage %d), global batch %d, from step %d (%s), run directory %s%n",
            sc.master(), shape.worldSize(), stage, shape.globalBatch(), spec.startStep(),
            from == null ? "initial weights" : from.path(), config.get(CoordinatorKeys.RUN_DIR));
        out.flush();
    }

    /** The newest valid checkpoint of the run, or {@link #from} when there is none yet. */
    private ResumeResolver.Found latestOrInitial()
    {
        final ResumeResolver.Found latest = resolver.latest();
        return latest != null ? latest : from;
    }
}
