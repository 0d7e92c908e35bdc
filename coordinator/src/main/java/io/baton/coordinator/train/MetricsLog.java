package io.baton.coordinator.train;

import io.baton.trainer.run.StepMetrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Writes each step's metrics as one JSON line to the run's {@code metrics.jsonl} and flushes it, so the driver
 * (and {@code baton report}) can read progress while training runs: appended where the store appends, as segment
 * files where it does not ({@link StepLines#sink}). Written by rank 0 only.
 *
 * <p>Threading: the replica's training thread.
 */
public final class MetricsLog implements Consumer<StepMetrics>, AutoCloseable
{
    private final StepLines.Sink out;

    /**
     * @param run            the run directory.
     * @param append         continue the existing file (a resumed or relaunched stage) instead of replacing it.
     * @param checkpointStep the step of the checkpoint the stage resumes from (-1: the initial weights); lines of
     *                       later steps are removed first ({@link StepLines}).
     */
    public MetricsLog(final RunDirectory run, final boolean append, final long checkpointStep)
    {
        try
        {
            out = StepLines.sink(run, RunDirectory.METRICS, append, checkpointStep);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open " + run.path(RunDirectory.METRICS) + ": " + ex.getMessage(),
                ex);
        }
    }

    @Override
    public void accept(final StepMetrics metrics)
    {
        try
        {
            out.write(metrics.toJson());
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write metrics: " + ex.getMessage(), ex);
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
