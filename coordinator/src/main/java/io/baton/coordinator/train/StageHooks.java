package io.baton.coordinator.train;

import io.baton.common.store.HadoopConf;
import io.baton.common.checkpoint.AsyncCheckpointWriter;
import io.baton.trainer.health.HealthMonitor;
import io.baton.common.checkpoint.CheckpointPart;
import io.baton.common.checkpoint.CheckpointSettings;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.run.ReplicaState;
import io.baton.trainer.run.TrainingHooks;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * One replica's hooks into the training loop for a stage: the learning-rate factor of the {@link StageSpec},
 * checkpoints after every {@code checkpoint.every}-th step and at epoch ends (written by rank 0 through an
 * {@link AsyncCheckpointWriter}), the stop at the stage's boundary, and the {@code debug.*} fault injections. When to
 * checkpoint is a function of the step, so every rank agrees.
 *
 * <h2>Snapshot fence</h2>
 * A checkpoint's host copy of the state ({@link ReplicaState#deferredSnapshot()}) is taken on the writer thread while
 * the next step's forward and backward run, which only read the state. Every write of the state while the copy may
 * still run waits for it first ({@link AsyncCheckpointWriter#awaitSnapshot()}): the optimiser update
 * ({@link #beforeUpdate}) and the health check, which puts the BN running statistics back after its passes
 * ({@link #beforeStep}). Nothing else writes the state during a stage: a non-finite step stops before its update
 * (the activation probe only runs a forward pass), restores (resume, rollback, elastic) happen before these hooks
 * exist, in a new stage, and {@link #flush()} and {@link #close()} cover the copy before the stage evaluates, writes
 * its model or ends.
 *
 * <p>Threading: the replica's training thread. {@link #close()} waits for the snapshot and write in flight (up to
 * {@code checkpoint.close-timeout}).
 */
final class StageHooks implements TrainingHooks, AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(StageHooks.class);

    private final StageSpec spec;
    private final BatonConfig config;
    private final int rank;
    private final int everySteps;
    private final boolean async;
    private final long stepsPerEpoch;
    private final String userConfigText;
    private final String configHash;
    private final ComputationGraph graph;
    private final ReplicaState state;
    private final RunDirectory run;
    private final CheckpointStore store;
    private final AsyncCheckpointWriter writer;
    private final BooleanSupplier cancelled;
    private final HealthMonitor health;
    private final FaultPoints faults;

    /**
     * @param spec           the stage.
     * @param config         the stage's effective configuration.
     * @param userConfigText the configuration as the user gave it (stored in checkpoints).
     * @param configHash     its trajectory hash.
     * @param rank           this replica's rank; rank 0 writes checkpoints.
     * @param stepsPerEpoch  of the stage's sampler.
     * @param graph          the replica's graph.
     * @param state          its float state.
     * @param health         the health checks, run before every K-th step on every rank.
     * @param cancelled      whether Spark cancelled the stage.
     * @param faults         the replica's {@code debug.fault-points}.
     */
    StageHooks(final StageSpec spec, final BatonConfig config, final String userConfigText, final String configHash,
        final int rank, final long stepsPerEpoch, final ComputationGraph graph, final ReplicaState state,
        final HealthMonitor health, final BooleanSupplier cancelled, final FaultPoints faults)
        throws IOException
    {
        this.faults = faults;
        this.cancelled = cancelled;
        this.health = health;
        this.spec = spec;
        this.config = config;
        this.rank = rank;
        this.stepsPerEpoch = stepsPerEpoch;
        this.userConfigText = userConfigText;
        this.configHash = configHash;
        this.graph = graph;
        this.state = state;
        this.run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));
        final CheckpointSettings settings = CheckpointSettings.from(config, run.uri().toString());
        this.everySteps = settings.everySteps();
        this.async = settings.async();
        if (rank == 0)
        {
            store = CheckpointStore.open(settings.dir(), HadoopConf.fresh(), settings.retention());
            writer = new AsyncCheckpointWriter(store, settings.closeTimeout());
        }
        else
        {
            store = null;
            writer = null;
        }
    }

    /** Tells {@code listener} of every checkpoint this replica publishes (only rank 0 writes any). */
    void publishListener(final CheckpointStore.PublishListener listener)
    {
        if (store != null)
        {
            store.publishListener(listener);
        }
    }

    @Override
    public double lrFactor(final long globalStep)
    {
        return spec.lrFactor(globalStep);
    }

    @Override
    public boolean stopBefore(final long globalStep)
    {
        return spec.stopAtStep() >= 0 && globalStep >= spec.stopAtStep() && globalStep > spec.startStep();
    }

    @Override
    public void beforeStep(final long globalStep, final BatchSource.Batch batch)
    {
        faults.step(globalStep);
        if (cancelled.getAsBoolean())
        {
            // A stopped job's replicas would otherwise train on over Aeron and keep writing into the run.
            throw new CancellationException("replica " + rank + ": Spark cancelled the stage; stopping before step "
                + globalStep);
        }
        if (globalStep == config.get(CoordinatorKeys.DEBUG_FAIL_AT_STEP) && rank == spec.worldSize() - 1
            && markFailureOnce(globalStep))
        {
            throw new IllegalStateException("debug.fail-at-step: replica " + rank + " fails before step " + globalStep);
        }
        if (globalStep == config.get(CoordinatorKeys.DEBUG_INJECT_NAN_AT_STEP) && rank == 0
            && spec.nanRollbacks() < config.get(CoordinatorKeys.DEBUG_INJECT_NAN_TIMES))
        {
            LOG.warn("debug.inject-nan-at-step: a NaN pixel in rank 0's slice of step {}", globalStep);
            batch.features().putScalar(0, Float.NaN);
        }
        if (health.isDue(globalStep))
        {
            awaitSnapshot(globalStep, "the health check");
        }
        health.onStep(globalStep, batch.features(), batch.labels());
        faults.reachInStep("forward", "the batch of step " + globalStep + " loaded, its forward pass next");
    }

    @Override
    public void beforeUpdate(final long globalStep)
    {
        awaitSnapshot(globalStep, "the update");
    }

    /** The fence: waits until the pending checkpoint snapshot (if any) no longer reads the state. */
    private void awaitSnapshot(final long globalStep, final String what)
    {
        if (writer == null)
        {
            return;
        }
        try
        {
            writer.awaitSnapshot();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("checkpoint snapshot awaited before " + what + " of step " + globalStep
                + " failed: " + ex.getMessage(), ex);
        }
    }

    @Override
    public void afterStep(final long completedSteps, final int nextEpoch, final boolean epochEnd)
    {
        if (writer == null || completedSteps % everySteps != 0 && !epochEnd)
        {
            return;
        }
        try
        {
            // Counters and the arrays to copy are read here, on the training thread; the copy itself runs on the
            // writer thread until the fence before the next update.
            final AsyncCheckpointWriter.Snapshot copy = state.deferredSnapshot();
            final byte[] configBytes = userConfigText.getBytes(StandardCharsets.UTF_8);
            writer.submitDeferred(TrainCheckpoint.metadata(completedSteps, nextEpoch, stepsPerEpoch, spec,
                    configHash, config.get(TrainerKeys.TRAIN_SEED), graph.getConfiguration().getIterationCount(),
                    graph.getConfiguration().getEpochCount()),
                () ->
                {
                    final List<CheckpointPart> parts = new ArrayList<>(copy.take());
                    // The state's parts are written before this last one and the manifest after it.
                    parts.add(CheckpointPart.streamed(TrainCheckpoint.CONFIG_PART, out ->
                    {
                        faults.reach("checkpoint", completedSteps, 1, "checkpoint of step " + completedSteps
                            + ": state parts written, config part and manifest not");
                        out.write(configBytes);
                    }));
                    return parts;
                });
            if (!async)
            {
                // checkpoint.async = false: the training thread waits until the checkpoint is published.
                writer.flush();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("checkpoint after step " + completedSteps + " failed: " + ex.getMessage(),
                ex);
        }
    }

    /** Waits for the snapshot and write in flight; call at the end of a stage, before the state is used further. */
    void flush() throws IOException
    {
        if (writer != null)
        {
            writer.flush();
        }
    }

    /** Creates the run directory's marker of an injected failure; false when it exists (already failed once). */
    private boolean markFailureOnce(final long step)
    {
        try
        {
            return run.fileSystem().createNewFile(run.path("debug-failed-at-" + step));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() throws IOException
    {
        try
        {
            if (writer != null)
            {
                writer.close();
            }
        }
        finally
        {
            if (store != null)
            {
                store.close();
            }
        }
    }
}
