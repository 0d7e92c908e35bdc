package io.baton.trainer.backend;

import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Shares this JVM's processors between the replicas running in it. ND4J sizes its thread pool and OpenMP regions
 * to the whole machine by default, so two replicas in one JVM (Spark local mode, or an executor running several
 * replica tasks) each start as many compute threads as there are cores and oversubscribe the CPU. A replica
 * {@link #enter() enters} before its rendezvous and {@link Registration#apply applies} its share after it: the
 * rendezvous is a barrier of the whole stage, so by then every replica of the stage living in this JVM has entered
 * and the count is exact. The previous ND4J settings come back when the last replica leaves.
 *
 * <p>Two limits are set: ND4J's {@link Environment#setMaxMasterThreads} (the default width of its own parallel loops;
 * global to the JVM — {@code setMaxThreads} only sizes the pool and is ignored after start) and the OpenMP limit
 * used by oneDNN and the OpenMP ops, set on the calling replica thread. Thread-safe.
 */
public final class ReplicaThreads
{
    private static final Object LOCK = new Object();
    private static int active;
    private static int savedMasterThreads;

    private ReplicaThreads()
    {
    }

    /** Registers one replica of this JVM; close the registration when the replica ends. */
    public static Registration enter()
    {
        synchronized (LOCK)
        {
            if (active == 0)
            {
                savedMasterThreads = Nd4j.getEnvironment().maxMasterThreads();
            }
            active++;
            return new Registration();
        }
    }

    /** The processors the replicas of this JVM share: ND4J's pool width, at most the JVM's processors. */
    public static int processors()
    {
        // ND4J's pool is as wide as the machine, or OMP_NUM_THREADS when the user set it; apply() never changes it.
        return Math.max(1, Math.min(Nd4j.getEnvironment().maxThreads(), Runtime.getRuntime().availableProcessors()));
    }

    /** Replicas registered in this JVM right now. */
    public static int active()
    {
        synchronized (LOCK)
        {
            return active;
        }
    }

    /**
     * The compute threads of each replica: {@code configured} when positive, otherwise {@code processors / replicas}
     * (at least 1).
     */
    public static int threadsPerReplica(final int configured, final int processors, final int replicas)
    {
        if (configured < 0)
        {
            throw new IllegalArgumentException("train.threads-per-replica = " + configured + " must be >= 0");
        }
        if (configured > 0)
        {
            return configured;
        }
        return Math.max(1, processors / Math.max(1, replicas));
    }

    /** One replica's place in this JVM's share. */
    public static final class Registration implements AutoCloseable
    {
        private boolean closed;
        private Thread appliedOn;
        private int ompThreadsBefore;

        private Registration()
        {
        }

        /**
         * Limits ND4J to this replica's share: call after the rendezvous, on the replica's own thread.
         *
         * @param configured {@code train.threads-per-replica} (0 = auto).
         * @return the threads per replica now in force.
         */
        public int apply(final int configured)
        {
            final int threads = threadsPerReplica(configured, processors(), active());
            final Environment environment = Nd4j.getEnvironment();
            environment.setMaxMasterThreads(threads);
            if (appliedOn == null)
            {
                appliedOn = Thread.currentThread();
                ompThreadsBefore = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
            }
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
            return threads;
        }

        /**
         * Leaves the share; the last replica out restores ND4J's previous limits, and the replica thread (a pooled
         * Spark task thread) gets its OpenMP limit back. Idempotent.
         */
        @Override
        public void close()
        {
            synchronized (LOCK)
            {
                if (closed)
                {
                    return;
                }
                closed = true;
                if (appliedOn == Thread.currentThread())
                {
                    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(ompThreadsBefore);
                }
                active--;
                if (active == 0)
                {
                    final Environment environment = Nd4j.getEnvironment();
                    environment.setMaxMasterThreads(savedMasterThreads);
                }
            }
        }
    }
}
