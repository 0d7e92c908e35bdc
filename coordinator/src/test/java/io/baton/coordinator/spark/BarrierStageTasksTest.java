package io.baton.coordinator.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the driver learns about a barrier stage's tasks, and its wait for them after the stage failed. */
class BarrierStageTasksTest
{
    private static final long SURVIVOR_MS = 3000;
    /** Set by the replica that outlives its failed stage (local mode: same JVM). */
    private static final AtomicBoolean SURVIVOR_ENDED = new AtomicBoolean();

    /**
     * One replica fails at once. The other ends only {@link #SURVIVOR_MS} later, as a replica does when its pending
     * collective times out. Meanwhile Spark's listener bus runs a second behind the scheduler: a slow listener delays
     * the task-start events. The wait still covers the survivor. Counted by Spark's status tracker, or without the bus
     * drained first, no task ran and the wait returned at once (this test failed that way).
     */
    @Test
    void theWaitAfterAFailedStageCoversReplicasWhoseStartSparksStatusHasNotCountedYet()
    {
        final JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]")
            .setAppName("barrier-stage-tasks-test").set("spark.ui.enabled", "false"));
        try
        {
            final BarrierStageTasks tasks = new BarrierStageTasks("failing stage");
            sc.sc().addSparkListener(new SlowJobStart());
            sc.sc().addSparkListener(tasks);
            SURVIVOR_ENDED.set(false);
            assertThrows(Exception.class, () -> BarrierLauncher.run(sc, 2, new SparkJobLabel("test", "failing stage"),
                context ->
                {
                    if (context.rank() == 1)
                    {
                        throw new IllegalStateException("replica 1 fails at once");
                    }
                    sleepUninterruptibly(SURVIVOR_MS);
                    SURVIVOR_ENDED.set(true);
                    return 0;
                }));
            assertFalse(SURVIVOR_ENDED.get(), "the survivor ended before the failure reached the driver");

            final int[] waitedFor = {0};
            final int left = tasks.awaitEnded(sc, Duration.ofSeconds(20), running -> waitedFor[0] = running);

            assertTrue(SURVIVOR_ENDED.get(), "the wait returned while a task of the failed stage still ran");
            assertEquals(0, left);
            assertEquals(1, waitedFor[0], "tasks still running once the bus was drained");
        }
        finally
        {
            sc.stop();
        }
    }

    private static void sleepUninterruptibly(final long ms)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        for (long left = ms; left > 0; left = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime()))
        {
            try
            {
                Thread.sleep(left);
            }
            catch (final InterruptedException ignored)
            {
                // a collective waiting out its deadline does not end early either
            }
        }
    }

    /** Holds Spark's shared listener queue for a second at the job's start, so the task starts behind it wait. */
    private static final class SlowJobStart extends SparkListener
    {
        @Override
        public void onJobStart(final SparkListenerJobStart start)
        {
            sleepUninterruptibly(1000);
        }
    }
}
