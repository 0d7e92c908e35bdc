package io.baton.coordinator.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark's barrier collectives through {@link ReplicaContext} return once the driver's reply is in, not on Spark's
 * once-a-second poll ({@link PromptBarrier}), and a task that fails before the rendezvous still ends the others'.
 */
class PromptBarrierTest
{
    /** How much later rank 0 joins than the others: they are then surely waiting inside Spark's poll. */
    private static final long LATE_MS = 300;

    /**
     * The bound on how long after the last rank joined any rank may return. Spark 3.5's own wait is
     * {@code Thread.sleep(1000)} from the moment a rank asked, so an early rank returns about 1000 - 300 = 700 ms
     * after the late one joined (less the few ms by which the tasks' starts differ) and the late one, unless the
     * reply beats its first check, 1000 ms (measured without {@link PromptBarrier}: 1001 / 691 / 694 ms); through
     * {@link PromptBarrier} it is the RPC round trip plus one 5 ms poll (measured: 1-39 ms in 7 runs). 600 ms
     * leaves a loaded 2-core machine room and still fails the old path.
     */
    private static final long BOUND_MS = 600;

    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark()
    {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[3]").setAppName("prompt-barrier-test")
            .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stopSpark()
    {
        sc.stop();
    }

    @Test
    void everyRankReturnsFromAllGatherPromptlyAfterTheLastOneJoins()
    {
        // Two exchanges in a row: the second runs in barrier epoch 1 and from an executor that already knows the
        // coordinator.
        final List<long[]> times = BarrierLauncher.run(sc, 3, new SparkJobLabel("test", "prompt allGather"),
            context ->
            {
                final long[] t = new long[5];
                for (int round = 0; round < 2; round++)
                {
                    if (context.rank() == 0)
                    {
                        Thread.sleep(LATE_MS);
                    }
                    t[2 * round] = System.nanoTime();
                    final List<String> all = context.allGather("r" + context.rank() + "-" + round);
                    t[2 * round + 1] = System.nanoTime();
                    if (!all.equals(List.of("r0-" + round, "r1-" + round, "r2-" + round)))
                    {
                        throw new IllegalStateException("round " + round + " gathered " + all);
                    }
                }
                return t;
            });
        for (int round = 0; round < 2; round++)
        {
            long lastIn = Long.MIN_VALUE;
            long firstOut = Long.MAX_VALUE;
            long lastOut = Long.MIN_VALUE;
            for (final long[] t : times)
            {
                lastIn = Math.max(lastIn, t[2 * round]);
                firstOut = Math.min(firstOut, t[2 * round + 1]);
                lastOut = Math.max(lastOut, t[2 * round + 1]);
            }
            final List<Long> afterLastIn = new ArrayList<>();
            for (final long[] t : times)
            {
                afterLastIn.add(TimeUnit.NANOSECONDS.toMillis(t[2 * round + 1] - lastIn));
            }
            final long spread = TimeUnit.NANOSECONDS.toMillis(lastOut - firstOut);
            System.out.println("round " + round + ": each rank returned " + afterLastIn
                + " ms after the last rank joined; spread " + spread + " ms");
            for (final long ms : afterLastIn)
            {
                assertTrue(ms < BOUND_MS, "round " + round + ": a rank returned " + ms + " ms after the last rank "
                    + "joined (all: " + afterLastIn + "): the reply waited for Spark's 1 s poll");
            }
            assertTrue(spread < BOUND_MS, "round " + round + ": spread " + spread + " ms");
        }
    }

    @Test
    void barrierReturnsPromptlyToo()
    {
        final List<Long> waited = BarrierLauncher.run(sc, 2, new SparkJobLabel("test", "prompt barrier"), context ->
        {
            if (context.rank() == 0)
            {
                Thread.sleep(LATE_MS);
            }
            final long in = System.nanoTime();
            context.barrier();
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - in);
        });
        // Rank 1 waited for rank 0 (~300 ms) and then for the reply; rank 0 only for the reply.
        assertTrue(waited.get(1) < LATE_MS + BOUND_MS, "rank 1 waited " + waited.get(1) + " ms");
        assertTrue(waited.get(0) < BOUND_MS, "rank 0 waited " + waited.get(0) + " ms");
    }

    @Test
    void aRankThatFailsBeforeTheRendezvousEndsTheOthersWait() throws Exception
    {
        final CountDownLatch othersEnded = new CountDownLatch(2);
        Ended.latch = othersEnded;
        final long start = System.nanoTime();
        final Exception failure = assertThrows(Exception.class,
            () -> BarrierLauncher.run(sc, 3, new SparkJobLabel("test", "failed rendezvous"), context ->
            {
                if (context.rank() == 1)
                {
                    Thread.sleep(200);
                    throw new IllegalStateException("rank 1 died before the rendezvous");
                }
                try
                {
                    return context.allGather("r" + context.rank()).size();
                }
                finally
                {
                    Ended.latch.countDown();
                }
            }));
        assertTrue(String.valueOf(failure.getMessage()).contains("rank 1 died before the rendezvous"),
            failure.getMessage());
        // The waiting ranks are killed with the stage; their allGather ends instead of waiting for rank 1.
        assertTrue(othersEnded.await(30, TimeUnit.SECONDS), "the waiting ranks did not end");
        System.out.println("waiting ranks ended " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
            + " ms after the stage started");
        // The helper threads have handed over their outcome by then; give them a moment to end.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long leftover;
        do
        {
            leftover = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(PromptBarrier.THREAD_PREFIX) && t.isAlive()).count();
            Thread.sleep(leftover == 0 ? 0 : 20);
        }
        while (leftover > 0 && System.nanoTime() < deadline);
        assertEquals(0, leftover, "barrier helper threads left running");
    }

    @Test
    void onlySparksBarrierSleepIsWokenNotOtherTimedWaits() throws Exception
    {
        final CountDownLatch release = new CountDownLatch(1);
        final Thread sleeper = new Thread(() ->
        {
            try
            {
                Thread.sleep(60_000);
            }
            catch (final InterruptedException ignored)
            {
                // ended by the test
            }
        });
        final Thread parked = new Thread(() ->
        {
            try
            {
                release.await(60, TimeUnit.SECONDS);
            }
            catch (final InterruptedException ignored)
            {
                // ended by the test
            }
        });
        sleeper.setDaemon(true);
        parked.setDaemon(true);
        sleeper.start();
        parked.start();
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((sleeper.getState() != Thread.State.TIMED_WAITING
                || parked.getState() != Thread.State.TIMED_WAITING) && System.nanoTime() < deadline)
            {
                Thread.sleep(5);
            }
            assertEquals(Thread.State.TIMED_WAITING, sleeper.getState());
            assertEquals(Thread.State.TIMED_WAITING, parked.getState());
            // A Thread.sleep that is not Spark's barrier poll, and a timed park (as the first call's lookup of the
            // driver's coordinator waits): neither is taken for Spark's poll, so neither would be interrupted.
            assertFalse(PromptBarrier.sleepsInSparksPoll(sleeper));
            assertFalse(PromptBarrier.sleepsInSparksPoll(parked));
            assertFalse(PromptBarrier.sleepsInSparksPoll(Thread.currentThread()));
        }
        finally
        {
            sleeper.interrupt();
            release.countDown();
        }
    }

    /** Shared with the tasks, which run in this JVM on local[3]. */
    private static final class Ended
    {
        static volatile CountDownLatch latch;
    }
}
