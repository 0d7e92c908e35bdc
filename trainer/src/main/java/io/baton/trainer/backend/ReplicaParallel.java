package io.baton.trainer.backend;

import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits a replica's Java compute loops (SyncBatchNorm's kernels, the residual add) over the replica's compute
 * threads, as ND4J's native ops split theirs over OpenMP. Why: with 2 threads per replica those loops ran on the
 * training thread alone while the second core waited in OpenMP (issue 25's ResNet-50 profile: half the CPU samples).
 *
 * <p>The width is ND4J's {@code maxMasterThreads}, which {@link ReplicaThreads} sets to each replica's share of the
 * JVM's processors, so replicas that share a JVM one core each never split. A range is split into contiguous parts,
 * the first run on the calling thread; the caller decides what a part computes, so results never depend on the width
 * when each index's work does not depend on the others (Baton's kernels split over channels, each channel's sums
 * taken in the same order whoever computes them).
 *
 * <p>Each calling thread has its own helper threads, as OpenMP gives each of its teams their own: a helper spins
 * briefly after a part for the next one and the caller spins for the helpers' ends, as OpenMP's threads do
 * ({@code GOMP_SPINCOUNT}). Why not a {@code ForkJoinPool}: waking a parked pool worker and parking the caller in the
 * join cost 70-100 us per call on this project's 2-core VMs, against 25 us for the whole split of a 65k-float pass
 * with spinning hand-offs ({@code ReplicaParallelBench}); a ResNet-50 step makes ~300 such calls.
 *
 * <p>Thread-safe: calls from different threads use different helpers; a thread makes one call at a time (a part
 * that calls {@code forRange} again runs that call inline). Helpers are daemons and end when their caller's thread
 * has ended.
 */
public final class ReplicaParallel
{
    /** Below this many elements per extra part the split costs more than it saves. */
    static final long MIN_ELEMENTS_PER_PART = 1L << 15;
    /** How long a helper spins for its next part before parking (back-to-back kernels come within this). */
    static final long HELPER_SPIN_NS = 50_000;
    /** How long the caller spins for the helpers' ends before it polls with short parks. */
    static final long CALLER_SPIN_NS = 200_000;

    private static final ThreadLocal<Helper[]> HELPERS = ThreadLocal.withInitial(() -> new Helper[0]);
    private static final AtomicInteger HELPER_IDS = new AtomicInteger();

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
        if (parts <= 1 || Thread.currentThread() instanceof Helper)
        {
            body.run(0, count);
            return;
        }
        final Helper[] helpers = helpers(parts - 1);
        for (int p = 1; p < parts; p++)
        {
            final int from = bound(count, parts, p);
            final int to = bound(count, parts, p + 1);
            helpers[p - 1].start(() -> body.run(from, to));
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
        for (int p = 1; p < parts; p++)
        {
            final Throwable ex = helpers[p - 1].await();
            if (ex == null)
            {
                continue;
            }
            if (failure == null)
            {
                failure = ex;
            }
            else
            {
                failure.addSuppressed(ex);
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

    /** This thread's first {@code n} helpers, started on first use. */
    private static Helper[] helpers(final int n)
    {
        Helper[] helpers = HELPERS.get();
        if (helpers.length < n)
        {
            final Helper[] more = java.util.Arrays.copyOf(helpers, n);
            for (int i = helpers.length; i < n; i++)
            {
                more[i] = new Helper(Thread.currentThread());
                more[i].start();
            }
            HELPERS.set(more);
            helpers = more;
        }
        return helpers;
    }

    /**
     * One helper thread of one calling thread: runs the parts it is handed, one at a time. The hand-off is two
     * volatile fields and a park permit: the caller writes {@code task} then reads {@code parked}, the helper writes
     * {@code parked} then reads {@code task}, so either the helper sees the task or the caller unparks it.
     */
    private static final class Helper extends Thread
    {
        private final Thread caller;
        private volatile Runnable task;
        private volatile boolean parked;
        private volatile boolean done = true;
        private volatile Throwable failure;

        Helper(final Thread caller)
        {
            super("baton-replica-parallel-" + HELPER_IDS.getAndIncrement());
            this.caller = caller;
            setDaemon(true);
        }

        /** Hands this helper a part (the caller's thread; the helper's previous part has ended). */
        void start(final Runnable part)
        {
            failure = null;
            done = false;
            task = part;
            if (parked)
            {
                LockSupport.unpark(this);
            }
        }

        /** Waits for the part handed over last; returns what it threw, or null. */
        Throwable await()
        {
            final long spinUntilNs = System.nanoTime() + CALLER_SPIN_NS;
            while (!done)
            {
                if (System.nanoTime() < spinUntilNs)
                {
                    Thread.onSpinWait();
                }
                else
                {
                    // a long part, or a helper without a core: stop taking the core from it
                    LockSupport.parkNanos(20_000);
                }
            }
            return failure;
        }

        @Override
        public void run()
        {
            while (true)
            {
                final Runnable part = next();
                if (part == null)
                {
                    return;
                }
                try
                {
                    part.run();
                }
                catch (final Throwable ex)
                {
                    failure = ex;
                }
                done = true;
            }
        }

        /** The next part: spins for it a little, then parks; null once the calling thread has ended. */
        private Runnable next()
        {
            final long spinUntilNs = System.nanoTime() + HELPER_SPIN_NS;
            Runnable part;
            while ((part = task) == null)
            {
                if (System.nanoTime() < spinUntilNs)
                {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                if (task == null)
                {
                    LockSupport.parkNanos(1_000_000_000L);
                }
                parked = false;
                if (task == null && !caller.isAlive())
                {
                    return null;
                }
            }
            task = null;
            return part;
        }
    }
}
