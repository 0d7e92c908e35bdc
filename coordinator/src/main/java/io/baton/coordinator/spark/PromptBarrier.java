package io.baton.coordinator.spark;

import org.apache.spark.BarrierTaskContext;
import org.slf4j.MDC;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs one of Spark's barrier collectives ({@code BarrierTaskContext.allGather} or {@code barrier}) so that it
 * returns as soon as the driver's reply has arrived, instead of up to a second later.
 *
 * <p>Why: Spark 3.5.7's {@code BarrierTaskContext.runBarrier} sends the request to the driver's
 * {@code BarrierCoordinator} (which replies to every task the moment the last one asks) and then waits for the reply
 * with
 * <pre>
 *   while (!future.isCompleted) {
 *     try Thread.sleep(1000) catch { case _: InterruptedException =&gt; }
 *     finally Try(taskContext.killTaskIfInterrupted()) match { ...abort the request on a kill... }
 *   }
 * </pre>
 * (seen in the bytecode: {@code javap -c -p org.apache.spark.BarrierTaskContext}). A task whose reply arrives while
 * it sleeps notices it only when the second is up, so each rendezvous of a stage took ~1 s however quickly the
 * ranks joined.
 *
 * <p>How: the call runs on a short-lived daemon helper thread; the task's thread waits for it and, every
 * {@value #POLL_MS} ms, interrupts the helper if, and only if, the helper is inside that sleep (its stack:
 * {@code Thread.sleep} called from {@code BarrierTaskContext.runBarrier}). Spark's loop takes the interrupt as its
 * wake-up: it checks whether the task was killed, exactly as after each second, and then whether the reply is in.
 * Nothing else about the call changes: the same message over the same RPC to the same coordinator (authenticated
 * and encrypted as Spark's RPC is configured), the same {@code spark.barrier.sync.timeout}, the same kill handling
 * (a killed task's call ends with Spark's {@code TaskKilledException}, now within a poll instead of a second), and the
 * helper's outcome (result or Spark's own exception) is what the task's thread returns or throws. A Spark whose wait
 * is not that sleep is never interrupted and behaves as without this class.
 *
 * <p>An interrupt of the task's thread while it waits is treated as Spark's loop treats it: the helper is woken to
 * check for a kill of the task, and the wait goes on until the call ends; the interrupt is not kept (Spark's sleep
 * clears it too). A kill ends the call.
 *
 * <p>Threading: call from the barrier task's thread, one call at a time (as Spark's own calls).
 */
final class PromptBarrier
{
    /** Name prefix of the helper threads. */
    static final String THREAD_PREFIX = "baton-barrier-call-";

    /** How often the task's thread looks whether the helper sleeps in Spark's poll. */
    static final long POLL_MS = 5;

    private static final String SPARK_WAIT_CLASS = BarrierTaskContext.class.getName();
    private static final String SPARK_WAIT_METHOD = "runBarrier";

    private PromptBarrier()
    {
    }

    /** Runs {@code call} (a barrier collective of {@code task}) and returns its result or throws its exception. */
    static <T> T call(final BarrierTaskContext task, final Supplier<T> call)
    {
        final CompletableFuture<T> outcome = new CompletableFuture<>();
        // Spark's log lines from the call keep the task's logging context (its task name).
        final Map<String, String> logContext = MDC.getCopyOfContextMap();
        final Thread helper = new Thread(() ->
        {
            try
            {
                if (logContext != null)
                {
                    MDC.setContextMap(logContext);
                }
                outcome.complete(call.get());
            }
            catch (final Throwable t)
            {
                outcome.completeExceptionally(t);
            }
        }, THREAD_PREFIX + task.partitionId() + "-" + task.taskAttemptId());
        helper.setDaemon(true);
        helper.setContextClassLoader(Thread.currentThread().getContextClassLoader());
        helper.start();
        while (true)
        {
            try
            {
                return outcome.get(POLL_MS, TimeUnit.MILLISECONDS);
            }
            catch (final TimeoutException ex)
            {
                if (sleepsInSparksPoll(helper))
                {
                    helper.interrupt();
                }
            }
            catch (final InterruptedException ex)
            {
                // Spark's own wait swallows this and checks for a kill: let the helper check now.
                if (sleepsInSparksPoll(helper))
                {
                    helper.interrupt();
                }
            }
            catch (final ExecutionException ex)
            {
                throw PromptBarrier.<RuntimeException>rethrow(ex.getCause());
            }
        }
    }

    /**
     * True when {@code thread} is inside {@code Thread.sleep} called directly from Spark's barrier wait (any frames of
     * {@code java.lang.Thread} on top, then {@code BarrierTaskContext.runBarrier}). Anything else, e.g. the first
     * call's lookup of the driver's coordinator, which waits with a timeout too, is left alone.
     */
    static boolean sleepsInSparksPoll(final Thread thread)
    {
        if (thread.getState() != Thread.State.TIMED_WAITING)
        {
            return false;
        }
        final StackTraceElement[] stack = thread.getStackTrace();
        boolean sleep = false;
        int i = 0;
        while (i < stack.length && Thread.class.getName().equals(stack[i].getClassName()))
        {
            sleep |= "sleep".equals(stack[i].getMethodName());
            i++;
        }
        return sleep && i < stack.length && SPARK_WAIT_CLASS.equals(stack[i].getClassName())
            && SPARK_WAIT_METHOD.equals(stack[i].getMethodName());
    }

    /** Throws {@code t} as it is (Spark's exceptions are checked ones in Java's eyes, e.g. SparkException). */
    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E rethrow(final Throwable t) throws E
    {
        throw (E) t;
    }
}
