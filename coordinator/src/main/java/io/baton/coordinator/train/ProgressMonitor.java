package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.trainer.run.RunJson;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The driver's progress line: every interval it reads the new lines of the run's {@code metrics.jsonl} (or, on a
 * store without append, the newest line of its segments, {@link StepSegments}) and prints
 * epoch, step/total, images/s, loss, learning rate and ETA. Lines already in the file when the job started are
 * earlier jobs' progress and are skipped. The ETA extrapolates the pace since the first step this monitor saw (so a
 * resumed run's earlier steps, done by another process, do not count as done in this one's time); when the step
 * goes back (a stage resumed from an earlier checkpoint, and the file was cut there) the pace is measured afresh.
 * Runs on its own daemon thread; {@link #close()} stops it and prints a last line.
 */
public final class ProgressMonitor implements AutoCloseable
{
    private static final ObjectMapper JSON = RunJson.MAPPER;

    private final RunDirectory run;
    private final TrainPlan plan;
    private final PrintWriter out;
    private final long intervalMs;
    private final Thread thread;
    private final MetricsTail tail;
    /** Segments already written when the job started (a store without append; {@link StepSegments}). */
    private final Set<String> earlierSegments;
    private JsonNode last;
    private long lastPrintedStep = -1;
    /** The step and time the pace is measured from (the first step seen, or the step after a step went back). */
    private long paceFromStep = -1;
    private long paceFromNs;
    private volatile boolean running = true;

    public ProgressMonitor(final RunDirectory run, final TrainPlan plan, final PrintWriter out, final Duration interval)
    {
        this.run = run;
        this.plan = plan;
        this.out = out;
        this.intervalMs = interval.toMillis();
        this.tail = new MetricsTail(run, RunDirectory.METRICS);
        this.earlierSegments = segmentNames(run);
        this.thread = new Thread(this::loop, "baton-progress");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void loop()
    {
        while (running)
        {
            try
            {
                Thread.sleep(intervalMs);
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            poll();
        }
    }

    /** Reads new metrics and prints a line if a new step arrived. */
    synchronized void poll()
    {
        try
        {
            if (!tail.singleFile())
            {
                final String line = StepSegments.lastLine(run, RunDirectory.METRICS, earlierSegments);
                if (line != null)
                {
                    last = JSON.readTree(line);
                }
            }
            else
            {
                final List<String> lines = tail.newLines();
                if (!lines.isEmpty())
                {
                    last = JSON.readTree(lines.get(lines.size() - 1));
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // Progress is best effort; the metrics file may be mid-rotation or briefly unreadable.
            return;
        }
        if (last != null && last.get("step").asLong() != lastPrintedStep)
        {
            lastPrintedStep = last.get("step").asLong();
            out.println(line(last));
            out.flush();
        }
    }

    String line(final JsonNode m)
    {
        return line(m, System.nanoTime());
    }

    String line(final JsonNode m, final long nowNs)
    {
        final long done = m.get("step").asLong() + 1;
        final long total = plan.totalSteps();
        if (paceFromStep < 0 || done < paceFromStep)
        {
            paceFromStep = done;
            paceFromNs = nowNs;
        }
        final double etaS = done == paceFromStep ? Double.NaN
            : (nowNs - paceFromNs) / 1e9 / (done - paceFromStep) * (total - done);
        return String.format(Locale.ROOT, "epoch %d/%d  step %d/%d (%.0f%%)  %.1f images/s  loss %.4f  lr %.5f  ETA %s",
            m.get("epoch").asInt() + 1, plan.epochs(), done, total, 100.0 * done / total,
            m.get("images_per_sec").asDouble(), m.get("loss").asDouble(), m.get("lr").asDouble(), eta(etaS));
    }

    /** The metrics segments written so far (none where the store appends). */
    private static Set<String> segmentNames(final RunDirectory run)
    {
        try
        {
            return StepSegments.names(run, RunDirectory.METRICS);
        }
        catch (final IOException | RuntimeException ex)
        {
            return Set.of();
        }
    }

    /** {@code 4m05s} or {@code 2h13m}; {@code ?} when unknown. */
    public static String eta(final double seconds)
    {
        if (!Double.isFinite(seconds))
        {
            return "?";
        }
        final long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
            : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    @Override
    public void close()
    {
        running = false;
        thread.interrupt();
        try
        {
            thread.join(2000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        poll();
    }
}
