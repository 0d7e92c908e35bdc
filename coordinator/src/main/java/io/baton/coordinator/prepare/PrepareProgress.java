package io.baton.coordinator.prepare;

import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple4;
import scala.collection.JavaConverters;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console progress line of a prepare split: files done / total and input MB/s. Counts of finished tasks come
 * from the accumulators; counts of running tasks from the executors' heartbeats (Spark merges accumulators only
 * when a task ends), so the line moves while one large shard is being written.
 *
 * <p>Threading: listener callbacks run on Spark's listener bus thread; {@link #line()} on the printing thread; the
 * per-task map is concurrent.
 */
public final class PrepareProgress extends SparkListener
{
    private final LongAccumulator filesDone;
    private final LongAccumulator bytesDone;
    private final Map<Long, long[]> running = new ConcurrentHashMap<>();
    private volatile String split = "";
    private volatile long totalFiles;
    private volatile long startNs;
    private volatile long bytesAtStart;
    private volatile long filesAtStart;

    public PrepareProgress(final LongAccumulator filesDone, final LongAccumulator bytesDone)
    {
        this.filesDone = filesDone;
        this.bytesDone = bytesDone;
    }

    /** Starts counting a new split. */
    public void start(final String newSplit, final long newTotalFiles)
    {
        running.clear();
        filesAtStart = filesDone.value();
        bytesAtStart = bytesDone.value();
        totalFiles = newTotalFiles;
        startNs = System.nanoTime();
        split = newSplit;
    }

    @Override
    public void onExecutorMetricsUpdate(final SparkListenerExecutorMetricsUpdate update)
    {
        for (final Tuple4<Object, Object, Object, scala.collection.Seq<AccumulableInfo>> task
            : JavaConverters.seqAsJavaList(update.accumUpdates()))
        {
            final long[] counts = new long[2];
            for (final AccumulableInfo info : JavaConverters.seqAsJavaList(task._4()))
            {
                if (info.update().isDefined() && info.update().get() instanceof Long value)
                {
                    if (info.id() == filesDone.id())
                    {
                        counts[0] = value;
                    }
                    else if (info.id() == bytesDone.id())
                    {
                        counts[1] = value;
                    }
                }
            }
            running.put((Long)task._1(), counts);
        }
    }

    @Override
    public void onTaskEnd(final SparkListenerTaskEnd end)
    {
        running.remove(end.taskInfo().taskId());
    }

    /** E.g. {@code prepare train: 1200/5000 files (24%), 310.2 MB in, 45.1 MB/s, 6.9 s}. */
    public String line()
    {
        long files = filesDone.value() - filesAtStart;
        long bytes = bytesDone.value() - bytesAtStart;
        for (final long[] counts : running.values())
        {
            files += counts[0];
            bytes += counts[1];
        }
        files = Math.min(files, totalFiles);
        final double seconds = Math.max(1e-9, (System.nanoTime() - startNs) / 1e9);
        return String.format("prepare %s: %d/%d files (%d%%), %.1f MB in, %.1f MB/s, %.1f s", split, files,
            totalFiles, totalFiles == 0 ? 100 : files * 100 / totalFiles, bytes / 1e6, bytes / 1e6 / seconds,
            seconds);
    }

    /**
     * Starts a daemon thread that prints {@link #line()} to {@code out} every {@code periodMs}; closing the returned
     * printer stops the thread and waits for it, so no progress line comes after what the caller prints next.
     */
    public Printer printer(final PrintWriter out, final long periodMs)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                while (!Thread.currentThread().isInterrupted())
                {
                    Thread.sleep(periodMs);
                    out.println(line());
                    out.flush();
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }, "baton-prepare-progress");
        thread.setDaemon(true);
        thread.start();
        return new Printer(thread);
    }

    /** The running progress printer. */
    public static final class Printer implements AutoCloseable
    {
        private static final long JOIN_MS = 10_000;

        private final Thread thread;

        private Printer(final Thread thread)
        {
            this.thread = thread;
        }

        /** Stops the printing thread and waits for it (at most 10 s: a print blocked on its output). Idempotent. */
        @Override
        public void close()
        {
            thread.interrupt();
            try
            {
                thread.join(JOIN_MS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }

        boolean isAlive()
        {
            return thread.isAlive();
        }
    }
}
