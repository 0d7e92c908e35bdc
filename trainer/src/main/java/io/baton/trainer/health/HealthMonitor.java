package io.baton.trainer.health;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Runs a {@link HealthCheck} every K steps from the training loop and hands each report to a sink (rank 0 writes
 * {@code health.jsonl}); warnings are also logged. Call {@link #onStep(long, INDArray, INDArray)} once per
 * step with that step's batch (before or after the step), on every rank (the check is a collective when SyncBatchNorm
 * is bound); only the sink differs by rank.
 *
 * <p>Threading: the training thread.
 */
public final class HealthMonitor
{
    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

    private final HealthCheck check;
    private final int everySteps;
    private final Consumer<HealthReport> sink;

    /**
     * @param check      the check to run.
     * @param everySteps run for steps K-1, 2K-1, ... (0 = never).
     * @param sink       receives every report (may ignore them off rank 0).
     */
    public HealthMonitor(final HealthCheck check, final int everySteps, final Consumer<HealthReport> sink)
    {
        if (everySteps < 0)
        {
            throw new IllegalArgumentException("health check interval must be >= 0 (0 = off), everySteps="
                + everySteps);
        }
        this.check = Objects.requireNonNull(check, "check");
        this.everySteps = everySteps;
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** Whether the check runs after the given 0-based global step. */
    public boolean isDue(final long step)
    {
        return everySteps > 0 && (step + 1) % everySteps == 0;
    }

    /**
     * @param step     the 0-based global step whose batch this is.
     * @param features the step's input batch (this replica's slice).
     * @param labels   its labels.
     * @return the report, or null when the check was not due.
     */
    public HealthReport onStep(final long step, final INDArray features, final INDArray labels)
    {
        if (!isDue(step))
        {
            return null;
        }
        final HealthReport report = check.run(step, features, labels);
        for (final String warning : report.warnings())
        {
            LOG.warn("health check after step {}: {}", step, warning);
        }
        sink.accept(report);
        return report;
    }
}
