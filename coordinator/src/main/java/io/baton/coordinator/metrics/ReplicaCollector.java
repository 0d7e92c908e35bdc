package io.baton.coordinator.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.baton.coordinator.spark.TaskAccumulatorListener;
import org.apache.spark.scheduler.AccumulableInfo;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Every replica's step, data-wait and communication time, last step, refused collective messages and checkpoint writes,
 * on the driver's endpoint. Each replica task records into its copy of a {@link ReplicaTimingsAccumulator}; executors
 * send running tasks' values with every heartbeat and Spark hands them to this listener ({@link
 * #onExecutorMetricsUpdate}), and a task's final value when it ends. The newest value of every task is kept, and a
 * replica's series are the sum over the tasks that were that rank (one per stage: a relaunched or elastic stage's tasks
 * continue the counts, so the histograms stay monotonic across relaunches). What a failed task did after its last
 * heartbeat is not counted.
 *
 * <p>Threading: Spark's listener-bus thread records; the endpoint's thread collects; the map is concurrent and the
 * values immutable copies.
 */
public final class ReplicaCollector extends TaskAccumulatorListener implements MultiCollector
{
    private final long accumulatorId;
    private final String jobName;
    private final Map<Long, ReplicaTimings> byTask = new ConcurrentHashMap<>();

    /**
     * @param accumulatorId the id of the job's {@link ReplicaTimingsAccumulator}.
     * @param jobName       the {@code job_name} label.
     */
    public ReplicaCollector(final long accumulatorId, final String jobName)
    {
        this.accumulatorId = accumulatorId;
        this.jobName = jobName;
    }

    @Override
    protected void onTaskAccumulables(final long taskId, final java.util.List<AccumulableInfo> infos)
    {
        record(taskId, infos);
    }

    /** Keeps a task's newest timings (a task's values only grow; a late heartbeat never replaces a newer value). */
    void record(final long taskId, final List<AccumulableInfo> infos)
    {
        for (final AccumulableInfo info : infos)
        {
            if (info.id() == accumulatorId && info.update().isDefined()
                && info.update().get() instanceof ReplicaTimings timings && timings.rank() >= 0)
            {
                byTask.merge(taskId, timings, (old, now) -> now.steps() >= old.steps()
                    && now.checkpoints() >= old.checkpoints() ? now : old);
            }
        }
    }

    /** The timings of each replica that reported, by rank, summed over its tasks. */
    Map<Integer, ReplicaTimings> replicas()
    {
        final Map<Integer, ReplicaTimings> sum = new TreeMap<>();
        for (final ReplicaTimings timings : byTask.values())
        {
            sum.computeIfAbsent(timings.rank(), r -> new ReplicaTimings()).merge(timings);
        }
        return sum;
    }

    @Override
    public MetricSnapshots collect()
    {
        final Map<Integer, ReplicaTimings> replicas = replicas();
        final GaugeSnapshot.Builder lastStep = GaugeSnapshot.builder().name("baton_replica_last_step")
            .help("The last global step each replica finished (a replica behind the others is stuck or slow).");
        final CounterSnapshot.Builder checkpointBytes = CounterSnapshot.builder().name("baton_checkpoint_written_bytes")
            .help("Bytes of the checkpoints a replica published (rank 0 writes them).");
        final CounterSnapshot.Builder rejected = CounterSnapshot.builder().name("baton_collective_rejected_messages")
            .help("Collective messages a replica refused because they failed authentication with the stage key (a "
                + "stranger's handshake or publication, a replayed handshake); dropped, they changed nothing. The "
                + "replica's log names each source address once.");
        for (final Map.Entry<Integer, ReplicaTimings> replica : replicas.entrySet())
        {
            final Labels labels = labels(replica.getKey());
            lastStep.dataPoint(Snapshots.gaugePoint(labels, replica.getValue().lastStep()));
            rejected.dataPoint(Snapshots.counterPoint(labels, replica.getValue().rejectedMessages()));
            if (replica.getValue().checkpoints() > 0)
            {
                checkpointBytes.dataPoint(Snapshots.counterPoint(labels, replica.getValue().checkpointBytes()));
            }
        }
        return MetricSnapshots.of(
            histogram(replicas, "baton_step_seconds", "Wall time of each step on each replica.",
                ReplicaTimings::stepCounts, ReplicaTimings::stepSumS, false),
            histogram(replicas, "baton_data_wait_seconds", "Time each step waited for its data on each replica.",
                ReplicaTimings::dataWaitCounts, ReplicaTimings::dataWaitSumS, false),
            histogram(replicas, "baton_communication_seconds", "Time each step spent in collectives (gradient "
                + "all-reduce, SyncBatchNorm, metrics) on each replica; a slow replica makes the others wait here.",
                ReplicaTimings::commCounts, ReplicaTimings::commSumS, false),
            histogram(replicas, "baton_checkpoint_write_seconds", "Time to write and publish each checkpoint.",
                ReplicaTimings::checkpointCounts, ReplicaTimings::checkpointSumS, true),
            checkpointBytes.build(),
            rejected.build(),
            lastStep.build());
    }

    private HistogramSnapshot histogram(final Map<Integer, ReplicaTimings> replicas, final String name,
        final String help, final Function<ReplicaTimings, long[]> counts, final Function<ReplicaTimings, Double> sum,
        final boolean onlyWriters)
    {
        final HistogramSnapshot.Builder builder = HistogramSnapshot.builder().name(name).help(help);
        for (final Map.Entry<Integer, ReplicaTimings> replica : replicas.entrySet())
        {
            if (!onlyWriters || replica.getValue().checkpoints() > 0)
            {
                builder.dataPoint(Snapshots.histogramPoint(labels(replica.getKey()), ReplicaTimings.BOUNDS_S,
                    counts.apply(replica.getValue()), sum.apply(replica.getValue())));
            }
        }
        return builder.build();
    }

    private Labels labels(final int rank)
    {
        return Labels.of("job_name", jobName, "replica", Integer.toString(rank));
    }
}
