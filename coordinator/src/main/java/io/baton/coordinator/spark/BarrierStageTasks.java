package io.baton.coordinator.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * The tasks of the barrier stages whose job description starts with a given prefix, as Spark's listener bus delivers
 * them: which executor runs each replica (task index = rank) of the newest such stage, which the driver needs to kill
 * the executor of a replica that went silent; and how many of these stages' tasks still run, which the driver waits
 * on after a stage failed. Spark's own status tracker is no substitute for the count: it writes a live executor's
 * task count to its store at most every {@code spark.ui.liveUpdate.period}, so it can show a started task as not
 * running for as long as no other event of that executor comes.
 *
 * <p>Threading: the callbacks run on Spark's listener bus thread, the queries on the driver's; the maps are
 * concurrent. A query sees the events delivered so far; {@link #awaitEnded} drains the bus first.
 */
public final class BarrierStageTasks extends SparkListener
{
    private static final Logger LOG = LoggerFactory.getLogger(BarrierStageTasks.class);

    private final String descriptionPrefix;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final Map<Integer, String> executorByRank = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> runningByStage = new ConcurrentHashMap<>();
    private volatile int newestStage = -1;

    public BarrierStageTasks(final String descriptionPrefix)
    {
        this.descriptionPrefix = descriptionPrefix;
    }

    @Override
    public void onStageSubmitted(final SparkListenerStageSubmitted submitted)
    {
        final String description = submitted.properties() == null ? null
            : submitted.properties().getProperty("spark.job.description");
        if (description != null && description.startsWith(descriptionPrefix))
        {
            stages.add(submitted.stageInfo().stageId());
        }
    }

    @Override
    public void onTaskStart(final SparkListenerTaskStart start)
    {
        if (!stages.contains(start.stageId()))
        {
            return;
        }
        runningByStage.merge(start.stageId(), 1, Integer::sum);
        if (start.stageId() != newestStage)
        {
            newestStage = start.stageId();
            executorByRank.clear();
        }
        executorByRank.put(start.taskInfo().index(), start.taskInfo().executorId());
    }

    @Override
    public void onTaskEnd(final SparkListenerTaskEnd end)
    {
        if (stages.contains(end.stageId()))
        {
            runningByStage.merge(end.stageId(), -1, Integer::sum);
        }
    }

    /** The executor of {@code rank} in the newest such stage, if its task started. */
    public Optional<String> executorOf(final int rank)
    {
        return Optional.ofNullable(executorByRank.get(rank));
    }

    /**
     * Waits until no task of these stages runs, at most {@code limit}: after a barrier stage failed, the other
     * replicas' task threads end only when their pending collective times out, and until then they still hold this
     * JVM's compute threads, streams and ports, and may write into the run. The listener bus runs behind the
     * scheduler, so it is drained first: a stage that failed just after its start can have its task-start events
     * still queued, and a count taken then missed replicas that still ran (a resumed run then started next to one).
     *
     * @param onWait called once, with the count, when tasks still run after the drain.
     * @return the tasks still running at the limit (0: all ended).
     * @throws IllegalStateException when the driver's thread is interrupted meanwhile (interrupt status kept).
     */
    public int awaitEnded(final JavaSparkContext sc, final Duration limit, final IntConsumer onWait)
    {
        final long deadlineNs = System.nanoTime() + limit.toNanos();
        try
        {
            // private[spark] in Scala, public in the bytecode; Spark's own tests wait on it the same way
            sc.sc().listenerBus().waitUntilEmpty(limit.toMillis());
        }
        catch (final TimeoutException | LinkageError ex)
        {
            LOG.warn("Spark's listener bus did not drain ({}); counting the failed stage's tasks as they are known "
                + "now", ex.toString());
        }
        int running = runningTasks();
        if (running > 0)
        {
            onWait.accept(running);
        }
        while (running > 0 && System.nanoTime() < deadlineNs)
        {
            try
            {
                TimeUnit.MILLISECONDS.sleep(100);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the tasks of a failed stage", ex);
            }
            running = runningTasks();
        }
        return running;
    }

    /** Tasks of these stages that started and have not ended, as far as the events delivered so far tell. */
    private int runningTasks()
    {
        int running = 0;
        for (final int stageRunning : runningByStage.values())
        {
            running += stageRunning;
        }
        return running;
    }
}
