package io.baton.coordinator.evaluate;

import io.baton.coordinator.train.ProgressMonitor;
import org.apache.spark.api.java.JavaSparkContext;
import io.baton.coordinator.spark.TaskAccumulatorListener;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.util.LongAccumulator;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The driver's progress line of {@code baton evaluate} (and {@code baton predict}, which counts rows). Replicas add the samples they score to a Spark accumulator;
 * executors send running tasks' accumulator values with every heartbeat ({@code spark.executor.heartbeatInterval},
 * set from {@code progress.interval}), and this listener keeps the latest value per task. A daemon thread prints
 * samples scored, of how many, the pace and an ETA every interval in which the count moved.
 *
 * <p>Threading: Spark's listener-bus thread records, the printer thread reads; {@link #close()} from the driver's
 * thread.
 */
public final class EvaluateProgress extends TaskAccumulatorListener implements AutoCloseable
{
    private final JavaSparkContext sc;
    private final long accumulatorId;
    private final long total;
    private final PrintWriter out;
    private final String what;
    private final String unit;
    private final Map<Long, Long> scoredPerTask = new ConcurrentHashMap<>();
    private final Thread printer;
    private volatile boolean running = true;

    EvaluateProgress(final JavaSparkContext sc, final LongAccumulator scored, final long total, final PrintWriter out,
        final Duration interval)
    {
        this(sc, scored, total, out, interval, "evaluate", "samples");
    }

    /**
     * A progress line {@code "<what>: done/total <unit> (p%)  pace <unit>/s  ETA"} for the count {@code scored}.
     */
    public EvaluateProgress(final JavaSparkContext sc, final LongAccumulator scored, final long total,
        final PrintWriter out, final Duration interval, final String what, final String unit)
    {
        this.what = what;
        this.unit = unit;
        this.sc = sc;
        this.accumulatorId = scored.id();
        this.total = total;
        this.out = out;
        sc.sc().addSparkListener(this);
        this.printer = new Thread(() -> print(interval.toMillis()), "baton-" + what + "-progress");
        this.printer.setDaemon(true);
        this.printer.start();
    }

    /** Samples scored so far, as last reported. */
    long scored()
    {
        long sum = 0;
        for (final long value : scoredPerTask.values())
        {
            sum += value;
        }
        return sum;
    }

    /**
     * The progress line for {@code done} samples; the pace is that since {@code firstDone} samples were reported,
     * {@code sinceFirstS} ago (model loading and start-up before the first report do not count).
     */
    String line(final long done, final long firstDone, final double sinceFirstS)
    {
        final double perS = done > firstDone && sinceFirstS > 0 ? (done - firstDone) / sinceFirstS : Double.NaN;
        return String.format(Locale.ROOT, "%s: %d/%d %s (%.0f%%)  %s %s/s  ETA %s", what, done, total, unit,
            total == 0 ? 100.0 : 100.0 * done / total, Double.isNaN(perS) ? "?" : String.format(Locale.ROOT,
            "%.1f", perS), unit, ProgressMonitor.eta((total - done) / perS));
    }

    @Override
    protected void onTaskAccumulables(final long taskId, final java.util.List<AccumulableInfo> infos)
    {
        record(taskId, infos);
    }

    private void record(final long taskId, final java.util.List<AccumulableInfo> infos)
    {
        for (final AccumulableInfo info : infos)
        {
            if (info.id() == accumulatorId && info.update().isDefined()
                && info.update().get() instanceof Number value)
            {
                scoredPerTask.merge(taskId, value.longValue(), Math::max);
            }
        }
    }

    private void print(final long intervalMs)
    {
        long printed = 0;
        long firstDone = -1;
        long firstNs = 0;
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
            final long done = scored();
            if (done > 0 && firstDone < 0)
            {
                firstDone = done;
                firstNs = System.nanoTime();
            }
            if (done != printed && done < total)
            {
                printed = done;
                out.println(line(done, firstDone, (System.nanoTime() - firstNs) / 1e9));
                out.flush();
            }
        }
    }

    @Override
    public void close()
    {
        running = false;
        printer.interrupt();
        try
        {
            printer.join(2000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        sc.sc().removeSparkListener(this);
    }
}
