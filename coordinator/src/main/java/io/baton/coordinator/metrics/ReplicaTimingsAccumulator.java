package io.baton.coordinator.metrics;

import io.baton.trainer.run.StepMetrics;
import org.apache.spark.util.AccumulatorV2;

import java.io.Serial;

/**
 * A Spark accumulator of one replica task's {@link ReplicaTimings}. Registered on the driver and shipped with the
 * replica tasks; each task's copy records that replica's steps and checkpoints, and Spark sends its value with every
 * executor heartbeat ({@code spark.executor.heartbeatInterval}, from {@code progress.interval}), which is how every
 * replica's timings reach the driver's Prometheus endpoint ({@link ReplicaCollector}) while the stage runs.
 *
 * <p>Threading: see {@link ReplicaTimings}; {@link #value()} returns a copy, because in local mode the heartbeat
 * hands the driver the task's own object.
 */
public final class ReplicaTimingsAccumulator extends AccumulatorV2<StepMetrics, ReplicaTimings>
{
    @Serial
    private static final long serialVersionUID = 1L;

    /** The accumulator's name in Spark (the UI and the listener events show it). */
    public static final String NAME = "baton.train.replica-timings";

    private volatile ReplicaTimings timings = new ReplicaTimings();
    private volatile int rank = -1;

    /** Called by the replica task before its first step: which replica this task is. */
    public void rank(final int replicaRank)
    {
        rank = replicaRank;
    }

    /** Records one published checkpoint of this task's replica. */
    public void addCheckpoint(final double seconds, final long bytes)
    {
        timings.addCheckpoint(rank, seconds, bytes);
    }

    @Override
    public boolean isZero()
    {
        return timings.isEmpty();
    }

    @Override
    public ReplicaTimingsAccumulator copy()
    {
        final ReplicaTimingsAccumulator c = new ReplicaTimingsAccumulator();
        c.rank = rank;
        c.timings.merge(timings);
        return c;
    }

    @Override
    public void reset()
    {
        timings = new ReplicaTimings();
    }

    @Override
    public ReplicaTimingsAccumulator copyAndReset()
    {
        return new ReplicaTimingsAccumulator();
    }

    @Override
    public void add(final StepMetrics step)
    {
        timings.addStep(rank, step);
    }

    @Override
    public void merge(final AccumulatorV2<StepMetrics, ReplicaTimings> other)
    {
        // On the driver, at the end of each task: the total over all replicas (the collector keeps them apart).
        timings.merge(other.value());
    }

    @Override
    public ReplicaTimings value()
    {
        return timings.copy();
    }
}
