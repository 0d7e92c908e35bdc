package io.baton.trainer.backend;

import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;

/**
 * Splits a replica's Java compute loops (SyncBatchNorm's kernels, the residual add) over the replica's compute
 * threads, as ND4J's native ops split theirs over OpenMP. Why: with 2 threads per replica those loops ran on the
 * training thread alone while the second core waited in OpenMP (issue 25's ResNet-50 profile: half the CPU samples).
 *
 * <p>The width is ND4J's {@code maxMasterThreads}, which {@link ReplicaThreads} sets to each replica's share of the
 * JVM's processors, so replicas that share a JVM one core each never use the pool. A range is split into contiguous
 * parts, the first run on the calling thread; the caller decides what a part computes, so results never depend on
 * the width when each index's work does not depend on the others (Baton's kernels split over channels, each
 * channel's sums taken in the same order whoever computes them).
 *
 * <p>Thread-safe. The pool's threads are daemons and idle ones exit on their own.
 */
public final class ReplicaParallel
{
    /** Below this many elements per extra part the split costs more than it saves. */
    static final long MIN_ELEMENTS_PER_PART = 1L << 15;

    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, Runtime.getRuntime().availableProcessors()),
        pool ->
        {
            final ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setName("baton-replica-parallel-" + thread.getPoolIndex());
            return thread;
        }, null, false);

    private ReplicaParallel()
    {
    }

    /** The body of one part: indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range
    {
        void run(int from, int to);
    }

    /** This thread's compute width: ND4J's master-thread limit, at least 1. */
    public static int width()
    {
        return Math.max(1, Nd4j.getEnvironment().maxMasterThreads());
    }

    /**
     * Runs {@code body} over {@code [0, count)} in at most {@link #width()} contiguous parts, fewer when the parts
     * would hold less than ~32k elements each ({@code elementsPerIndex} elements per index).
     */
    public static void forRange(final int count, final long elementsPerIndex, final Range body)
    {
        forRange(count, elementsPerIndex, width(), body);
    }

    /** As {@link #forRange(int, long, Range)} with an explicit width (for tests). */
    public static void forRange(final int count, final long elementsPerIndex, final int width, final Range body)
    {
        final long total = (long)count * Math.max(1, elementsPerIndex);
        final int parts = (int)Math.max(1, Math.min(Math.min(width, count), total / MIN_ELEMENTS_PER_PART));
        if (parts <= 1)
        {
            body.run(0, count);
            return;
        }
        final ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++)
        {
            final int from = bound(count, parts, p);
            final int to = bound(count, parts, p + 1);
            tasks[p - 1] = POOL.submit(() -> body.run(from, to));
        }
        Throwable failure = null;
        try
        {
            body.run(0, bound(count, parts, 1));
        }
        catch (final RuntimeException | Error ex)
        {
            failure = ex;
        }
        for (final ForkJoinTask<?> task : tasks)
        {
            try
            {
                task.join();
            }
            catch (final RuntimeException | Error ex)
            {
                if (failure == null)
                {
                    failure = ex;
                }
                else
                {
                    failure.addSuppressed(ex);
                }
            }
        }
        if (failure instanceof RuntimeException runtime)
        {
            throw runtime;
        }
        if (failure instanceof Error error)
        {
            throw error;
        }
    }

    private static int bound(final int count, final int parts, final int part)
    {
        return (int)((long)count * part / parts);
    }
}
