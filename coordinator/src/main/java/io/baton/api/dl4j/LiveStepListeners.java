package io.baton.api.dl4j;

import io.baton.api.TrainResult;
import io.baton.coordinator.train.MetricsTail;
import io.baton.coordinator.train.RunDirectory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Shows a fit's steps to the DL4J listeners while its Baton run trains: a daemon thread on the driver follows the
 * run's {@code metrics.jsonl} (which rank 0 appends a line to after each step) and hands each new step to the
 * {@link StepListeners.Shower}; after the run, {@link #stopFollowing} joins that thread and {@link #showRest} shows,
 * on the calling thread, the steps it had not shown yet (all of them on a store without append, whose step log is
 * segments). So a listener sees a step within {@link #POLL_INTERVAL_MS} of rank 0 logging it, on this class's thread,
 * while the network still holds the parameters it had before the fit; the steps shown by {@link #showRest} see the
 * trained parameters when the caller has copied them in between. A listener that throws stops the calls; its
 * exception is thrown by {@link #stopFollowing} (or by {@link #close}, added to the run's own failure).
 *
 * <p>Threading: made, stopped and closed by the thread that runs the fit; the listener calls happen on this class's
 * thread until {@link #stopFollowing} or {@link #close} has joined it, then on the caller's.
 */
final class LiveStepListeners implements AutoCloseable
{
    /** How often the run's step log is read: the longest a listener waits for a step after rank 0 logged it. */
    static final long POLL_INTERVAL_MS = 500;

    private final StepListeners.Shower shower;
    private final MetricsTail tail;
    private final Thread thread;
    private volatile boolean running = true;
    /** A listener's exception or error, from this class's thread; thrown once on the fit's thread, as it was. */
    private volatile Throwable listenerFailure;
    private boolean failureThrown;

    /** Follows the step log of the run in {@code runDirectory} from its current end. */
    LiveStepListeners(final String runDirectory, final StepListeners.Shower shower)
    {
        this.shower = shower;
        this.tail = new MetricsTail(new RunDirectory(runDirectory), RunDirectory.METRICS);
        this.thread = new Thread(this::follow, "baton-dl4j-listeners");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void follow()
    {
        while (running)
        {
            // Parked, not slept: stop() wakes this thread with unpark, never with an interrupt, which would reach a
            // listener in the middle of its call (an interruptible channel it writes to would close).
            LockSupport.parkNanos(POLL_INTERVAL_MS * 1_000_000L);
            if (!running)
            {
                return;
            }
            final List<String> lines;
            try
            {
                lines = tail.singleFile() ? tail.newLines() : List.of();
            }
            catch (final IOException | RuntimeException ex)
            {
                // Best effort while the run trains: showRest() shows whatever this missed from the completed log.
                continue;
            }
            for (final String line : lines)
            {
                // Stopped mid-batch: showRest() shows the rest from the completed log.
                if (!running || !showQuietly(line))
                {
                    return;
                }
            }
        }
    }

    /** Shows one line's step; false when a listener threw (recorded, and the calls stop). */
    private boolean showQuietly(final String line)
    {
        final StepListeners.Step step;
        try
        {
            step = StepListeners.Step.parse(line);
        }
        catch (final IOException ex)
        {
            return true; // a damaged line: showRest() reads the completed log, which names it
        }
        if (step == null)
        {
            return true;
        }
        try
        {
            shower.show(step);
            return true;
        }
        catch (final RuntimeException | Error ex)
        {
            listenerFailure = ex;
            return false;
        }
    }

    /**
     * Stops following the log (joins the thread, so no listener call runs after this returns) and throws a listener's
     * exception or error from that thread, if there was one.
     */
    void stopFollowing()
    {
        stop();
        throwListenerFailure();
    }

    /** After {@link #stopFollowing}: shows the steps of {@code result}'s call not shown yet, on this thread. */
    void showRest(final TrainResult result)
    {
        for (final StepListeners.Step step : StepListeners.trainedBy(result))
        {
            shower.show(step);
        }
    }

    private void stop()
    {
        running = false;
        LockSupport.unpark(thread);
        try
        {
            thread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the DL4J listeners' thread stopped", ex);
        }
    }

    private void throwListenerFailure()
    {
        final Throwable failure = listenerFailure;
        if (failure != null && !failureThrown)
        {
            failureThrown = true;
            if (failure instanceof Error error)
            {
                throw error;
            }
            throw (RuntimeException)failure;
        }
    }

    /** Stops the following thread; throws a listener's exception that {@link #stopFollowing} has not thrown. */
    @Override
    public void close()
    {
        stop();
        throwListenerFailure();
    }
}
