package io.baton.coordinator.spark;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskStart;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which executor runs each replica (task index = rank) of the newest barrier stage whose job description starts with
 * a given prefix: what the driver needs to ask Spark to kill the executor of a replica that went silent.
 *
 * <p>Threading: the callbacks run on Spark's listener bus thread, the queries on the driver's; the maps are
 * concurrent.
 */
public final class BarrierTaskExecutors extends SparkListener
{
    private final String descriptionPrefix;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final Map<Integer, String> executorByRank = new ConcurrentHashMap<>();
    private volatile int newestStage = -1;

    public BarrierTaskExecutors(final String descriptionPrefix)
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
        if (start.stageId() != newestStage)
        {
            newestStage = start.stageId();
            executorByRank.clear();
        }
        executorByRank.put(start.taskInfo().index(), start.taskInfo().executorId());
    }

    /** The executor of {@code rank} in the newest such stage, if its task started. */
    public Optional<String> executorOf(final int rank)
    {
        return Optional.ofNullable(executorByRank.get(rank));
    }
}
