package io.baton.coordinator.report;

import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.StepLines;
import io.baton.trainer.health.HealthReport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Writes each health check report as one JSON line to the run's {@code health.jsonl} (appended, or as segment files
 * on a store without append: {@link StepLines#sink}) and flushes it, so {@code baton report} and the Prometheus
 * endpoint see it at once. Written by rank 0 only.
 *
 * <p>Threading: the replica's training thread.
 */
public final class HealthLog implements Consumer<HealthReport>, AutoCloseable
{
    private final StepLines.Sink out;
    private final RunDirectory run;

    /**
     * @param run            the run directory.
     * @param append         continue an existing file (a resumed run) instead of replacing it.
     * @param checkpointStep the step of the checkpoint the stage resumes from (-1: the initial weights); reports of
     *                       later steps are removed first ({@link StepLines}).
     */
    public HealthLog(final RunDirectory run, final boolean append, final long checkpointStep)
    {
        this.run = run;
        try
        {
            out = StepLines.sink(run, RunReport.HEALTH, append, checkpointStep);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open " + run.path(RunReport.HEALTH) + ": " + ex.getMessage(), ex);
        }
    }

    @Override
    public void accept(final HealthReport report)
    {
        try
        {
            out.write(report.toJson());
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + run.path(RunReport.HEALTH) + ": " + ex.getMessage(), ex);
        }
    }

    @Override
    public void close()
    {
        try
        {
            out.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
