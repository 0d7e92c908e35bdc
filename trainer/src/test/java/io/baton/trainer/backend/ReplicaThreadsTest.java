package io.baton.trainer.backend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplicaThreadsTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void autoSplitsTheProcessorsBetweenTheReplicasOfTheJvmAndNeverGoesBelowOne()
    {
        assertEquals(8, ReplicaThreads.threadsPerReplica(0, 16, 2));
        assertEquals(2, ReplicaThreads.threadsPerReplica(0, 7, 3));
        assertEquals(1, ReplicaThreads.threadsPerReplica(0, 2, 2));
        assertEquals(1, ReplicaThreads.threadsPerReplica(0, 2, 4));
        assertEquals(2, ReplicaThreads.threadsPerReplica(0, 2, 1));
    }

    @Test
    void aConfiguredCountWinsAndANegativeOneIsRejectedByName()
    {
        assertEquals(3, ReplicaThreads.threadsPerReplica(3, 2, 2));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ReplicaThreads.threadsPerReplica(-1, 2, 2));
        assertTrue(ex.getMessage().contains("train.threads-per-replica = -1"), ex.getMessage());
    }

    @Test
    void twoReplicasInOneJvmEachGetHalfTheProcessorsAndTheLastOneOutRestoresNd4j() throws Exception
    {
        final Environment environment = Nd4j.getEnvironment();
        final int masterBefore = environment.maxMasterThreads();
        final int processors = ReplicaThreads.processors();
        final int expected = Math.max(1, processors / 2);
        // Both replicas enter before either applies, as the rendezvous guarantees in a real stage.
        final CyclicBarrier rendezvous = new CyclicBarrier(2);
        final CompletableFuture<int[]>[] replicas = new CompletableFuture[2];
        for (int r = 0; r < 2; r++)
        {
            replicas[r] = CompletableFuture.supplyAsync(() ->
            {
                try (ReplicaThreads.Registration registration = ReplicaThreads.enter())
                {
                    rendezvous.await(30, TimeUnit.SECONDS);
                    final int threads = registration.apply(0);
                    final int omp = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
                    final int master = Nd4j.getEnvironment().maxMasterThreads();
                    // Neither leaves before both have looked: the first one out must not restore anything.
                    rendezvous.await(30, TimeUnit.SECONDS);
                    return new int[] {threads, omp, master};
                }
                catch (final Exception ex)
                {
                    throw new IllegalStateException(ex);
                }
            }, runnable -> new Thread(runnable, "replica").start());
        }
        for (final CompletableFuture<int[]> replica : replicas)
        {
            final int[] seen = replica.get(60, TimeUnit.SECONDS);
            assertEquals(expected, seen[0], "threads per replica");
            assertEquals(expected, seen[1], "OpenMP limit on the replica's thread");
            assertEquals(expected, seen[2], "ND4J maxMasterThreads");
        }
        assertEquals(0, ReplicaThreads.active());
        assertEquals(masterBefore, environment.maxMasterThreads());
    }

    @Test
    void theReplicaThreadGetsItsOpenMpLimitBackOnClose()
    {
        final int before = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
        try (ReplicaThreads.Registration registration = ReplicaThreads.enter())
        {
            registration.apply(before + 1);
            assertEquals(before + 1, NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads());
        }
        assertEquals(before, NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads());
    }
}
