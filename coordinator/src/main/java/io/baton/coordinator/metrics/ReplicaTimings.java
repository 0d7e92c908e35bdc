package io.baton.coordinator.metrics;

import io.baton.trainer.run.StepMetrics;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;

/**
 * What one replica task measured about its own steps: histograms of step, data-wait and communication time (classic
 * buckets, {@link #BOUNDS_S}), the last step it finished, the collective messages it refused, and for the replica that
 * writes checkpoints their count, write time and bytes. Travels from the executor to the driver as the value of a
 * {@link ReplicaTimingsAccumulator} (Spark sends running tasks' values with every executor heartbeat).
 *
 * <p>Threading: the training thread (and the checkpoint writer thread) add; Spark's heartbeat thread copies or
 * serialises; every method is synchronized, and so is serialisation, so a copy is never torn.
 */
public final class ReplicaTimings implements Serializable
{
    @Serial
    private static final long serialVersionUID = 1L;

    /** Upper bounds (seconds) of the time histograms' buckets; +Inf is implied. */
    static final double[] BOUNDS_S = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private int rank = -1;
    private long lastStep = -1;
    private final long[] stepCounts = new long[BOUNDS_S.length + 1];
    private final long[] dataWaitCounts = new long[BOUNDS_S.length + 1];
    private final long[] commCounts = new long[BOUNDS_S.length + 1];
    private double stepSumS;
    private double dataWaitSumS;
    private double commSumS;
    private final long[] checkpointCounts = new long[BOUNDS_S.length + 1];
    private double checkpointSumS;
    private long checkpointBytes;
    private long rejectedMessages;

    /** Records one step of replica {@code replicaRank}. */
    public synchronized void addStep(final int replicaRank, final StepMetrics step)
    {
        rank = replicaRank;
        lastStep = Math.max(lastStep, step.step());
        stepSumS += observe(stepCounts, step.stepMs() / 1000.0);
        dataWaitSumS += observe(dataWaitCounts, step.dataWaitMs() / 1000.0);
        commSumS += observe(commCounts, step.commMs() / 1000.0);
        rejectedMessages += Math.max(0, step.rejectedMessages());
    }

    /** Records one published checkpoint of replica {@code replicaRank}. */
    public synchronized void addCheckpoint(final int replicaRank, final double seconds, final long bytes)
    {
        rank = replicaRank;
        checkpointSumS += observe(checkpointCounts, seconds);
        checkpointBytes += bytes;
    }

    private static double observe(final long[] counts, final double seconds)
    {
        final double value = Double.isFinite(seconds) && seconds > 0 ? seconds : 0;
        int bucket = 0;
        while (bucket < BOUNDS_S.length && value > BOUNDS_S[bucket])
        {
            bucket++;
        }
        counts[bucket]++;
        return value;
    }

    /** Adds another task's timings of the same replica (histograms and totals add; the last step is the larger). */
    public synchronized void merge(final ReplicaTimings other)
    {
        final ReplicaTimings o = other.copy();
        if (rank < 0)
        {
            rank = o.rank;
        }
        lastStep = Math.max(lastStep, o.lastStep);
        add(stepCounts, o.stepCounts);
        add(dataWaitCounts, o.dataWaitCounts);
        add(commCounts, o.commCounts);
        add(checkpointCounts, o.checkpointCounts);
        stepSumS += o.stepSumS;
        dataWaitSumS += o.dataWaitSumS;
        commSumS += o.commSumS;
        checkpointSumS += o.checkpointSumS;
        checkpointBytes += o.checkpointBytes;
        rejectedMessages += o.rejectedMessages;
    }

    private static void add(final long[] into, final long[] from)
    {
        for (int i = 0; i < into.length; i++)
        {
            into[i] += from[i];
        }
    }

    public synchronized ReplicaTimings copy()
    {
        final ReplicaTimings c = new ReplicaTimings();
        c.rank = rank;
        c.lastStep = lastStep;
        System.arraycopy(stepCounts, 0, c.stepCounts, 0, stepCounts.length);
        System.arraycopy(dataWaitCounts, 0, c.dataWaitCounts, 0, dataWaitCounts.length);
        System.arraycopy(commCounts, 0, c.commCounts, 0, commCounts.length);
        System.arraycopy(checkpointCounts, 0, c.checkpointCounts, 0, checkpointCounts.length);
        c.stepSumS = stepSumS;
        c.dataWaitSumS = dataWaitSumS;
        c.commSumS = commSumS;
        c.checkpointSumS = checkpointSumS;
        c.checkpointBytes = checkpointBytes;
        c.rejectedMessages = rejectedMessages;
        return c;
    }

    public synchronized boolean isEmpty()
    {
        return steps() == 0 && checkpoints() == 0;
    }

    /** The replica's rank; -1 before anything was recorded. */
    public synchronized int rank()
    {
        return rank;
    }

    /** The last global step this replica finished; -1 before the first. */
    public synchronized long lastStep()
    {
        return lastStep;
    }

    public synchronized long steps()
    {
        return Arrays.stream(stepCounts).sum();
    }

    public synchronized long checkpoints()
    {
        return Arrays.stream(checkpointCounts).sum();
    }

    synchronized long[] stepCounts()
    {
        return stepCounts.clone();
    }

    synchronized long[] dataWaitCounts()
    {
        return dataWaitCounts.clone();
    }

    synchronized long[] commCounts()
    {
        return commCounts.clone();
    }

    synchronized long[] checkpointCounts()
    {
        return checkpointCounts.clone();
    }

    synchronized double stepSumS()
    {
        return stepSumS;
    }

    synchronized double dataWaitSumS()
    {
        return dataWaitSumS;
    }

    synchronized double commSumS()
    {
        return commSumS;
    }

    synchronized double checkpointSumS()
    {
        return checkpointSumS;
    }

    synchronized long checkpointBytes()
    {
        return checkpointBytes;
    }

    /**
     * Collective messages this replica refused because they failed authentication (strangers' handshakes and
     * publications), reported with its steps.
     */
    synchronized long rejectedMessages()
    {
        return rejectedMessages;
    }

    @Serial
    private synchronized void writeObject(final ObjectOutputStream out) throws IOException
    {
        out.defaultWriteObject();
    }

    @Override
    public synchronized String toString()
    {
        return "ReplicaTimings[rank " + rank + ", last step " + lastStep + ", " + steps() + " steps, " + checkpoints()
            + " checkpoints]";
    }
}
