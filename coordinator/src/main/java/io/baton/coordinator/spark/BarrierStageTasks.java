package io.baton.coordinator.spark;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tasks of the barrier stages whose job description starts with a given prefix, as Spark's listener bus delivers
 * them: which executor runs each replica (task index = rank) of the newest such stage, which the driver needs to kill
 * the executor of a replica that went silent; and how many of these stages' tasks still run, which the driver waits
 * on after a stage failed. Spark's own status tracker is no substitute for the count: it writes a live executor's
 * task count to its store at most every {@code spark.ui.liveUpdate.period}, so it can show a started task as not
 * running for as long as no other event of that executor comes.
 *
 * <p>Threading: the callbacks run on Spark's listener bus thread, the queries on the driver's; the maps are
 * concurrent. A query sees the events delivered so far: drain the bus first where a count must include every task
 * launched before now.
 */
public final class BarrierStageTasks extends SparkListener
{
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

    /** Tasks of these stages that started and have not ended, as far as the events delivered so far tell. */
    public int runningTasks()
    {
        int running = 0;
        for (final int stageRunning : runningByStage.values())
        {
            running += stageRunning;
        }
        return running;
    }
}
