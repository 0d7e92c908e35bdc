package io.baton.common.checkpoint;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes checkpoints to a {@link CheckpointStore} on one background thread, with at most one write in flight.
 * Training is blocked only while the state is copied to host memory: {@link #submit(CheckpointMetadata, Snapshot)}
 * first waits for the previous write (back-pressure, logged as a warning with the time waited), then runs the
 * snapshot on the caller's thread, then hands the parts to the writer thread and returns. Since the snapshot is
 * taken only once the previous write is over, one reusable host buffer suffices and memory never piles up.
 *
 * <p>A failed background write is never swallowed: the next {@code submit}, {@link #flush} or {@link #close}
 * throws a {@link CheckpointWriteException} naming its step, with the original error as the cause (once).
 *
 * <p>Threading: meant for one thread (the training loop); methods are synchronized, so {@link #close} may also come
 * from another thread (a shutdown hook). The writer thread is a daemon named {@code baton-checkpoint-writer}.
 */
public final class AsyncCheckpointWriter implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(AsyncCheckpointWriter.class);

    private final CheckpointStore store;
    private final long closeTimeoutNs;
    private final ExecutorService executor;
    private Future<Checkpoint> inFlight;
    private long inFlightStep = -1;
    private Checkpoint lastPublished;
    private long backPressureWaits;
    private long backPressureNs;
    private boolean closed;

    /** Takes the host copy of the state, on the caller's thread; returns parts the caller will not mutate. */
    @FunctionalInterface
    public interface Snapshot
    {
        List<CheckpointPart> take() throws IOException;
    }

    /**
     * @param store        where checkpoints go; not closed by this writer.
     * @param closeTimeout longest {@link #close} waits for the write in flight.
     */
    public AsyncCheckpointWriter(final CheckpointStore store, final Duration closeTimeout)
    {
        this.store = store;
        this.closeTimeoutNs = closeTimeout.toNanos();
        this.executor = Executors.newSingleThreadExecutor(runnable ->
        {
            final Thread thread = new Thread(runnable, "baton-checkpoint-writer");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Waits for the previous write if it is still running, takes the snapshot on this thread and starts writing it
     * in the background.
     *
     * @throws CheckpointWriteException if the previous write failed (this checkpoint is then not started).
     */
    public synchronized void submit(final CheckpointMetadata metadata, final Snapshot snapshot) throws IOException
    {
        ensureOpen();
        awaitPrevious(metadata.step());
        final List<CheckpointPart> parts = List.copyOf(snapshot.take());
        inFlightStep = metadata.step();
        inFlight = executor.submit(() -> store.write(metadata, parts));
    }

    /**
     * Like {@link #submit(CheckpointMetadata, Snapshot)} for parts the caller already copied; their sources must not
     * change until the next call on this writer returns. While a previous write is in flight they are a second copy
     * in memory: prefer the snapshot form for large states.
     */
    public synchronized void submit(final CheckpointMetadata metadata, final List<CheckpointPart> parts)
        throws IOException
    {
        submit(metadata, () -> parts);
    }

    /**
     * Waits (without bound) for the write in flight, if any.
     *
     * @return the newest checkpoint this writer published, or {@code null} if none yet.
     * @throws CheckpointWriteException if that write failed.
     */
    public synchronized Checkpoint flush() throws IOException
    {
        ensureOpen();
        if (inFlight != null)
        {
            awaitQuietly(Long.MAX_VALUE);
            collect();
        }
        return lastPublished;
    }

    /** How many submits had to wait for the previous write. */
    public synchronized long backPressureWaits()
    {
        return backPressureWaits;
    }

    /** Total time submits waited for previous writes, in nanoseconds. */
    public synchronized long backPressureNs()
    {
        return backPressureNs;
    }

    /**
     * Waits up to the close timeout for the write in flight, then stops the writer thread. Idempotent.
     *
     * @throws CheckpointWriteException if the write failed or did not finish in time (it is then interrupted and
     *                                  not published; the next writer removes its staging directory).
     */
    @Override
    public synchronized void close() throws IOException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        try
        {
            if (inFlight != null)
            {
                if (!awaitQuietly(closeTimeoutNs))
                {
                    inFlight.cancel(true);
                    final long step = inFlightStep;
                    inFlight = null;
                    throw new CheckpointWriteException(step, "the write of checkpoint step " + step
                        + " did not finish within " + TimeUnit.NANOSECONDS.toMillis(closeTimeoutNs)
                        + " ms of close; it was interrupted and is not published", null);
                }
                collect();
            }
        }
        finally
        {
            executor.shutdownNow();
        }
    }

    private void awaitPrevious(final long nextStep) throws IOException
    {
        if (inFlight == null)
        {
            return;
        }
        if (!inFlight.isDone())
        {
            final long startNs = System.nanoTime();
            awaitQuietly(Long.MAX_VALUE);
            final long waitedNs = System.nanoTime() - startNs;
            backPressureWaits++;
            backPressureNs += waitedNs;
            LOG.warn("checkpoint of step {} waited {} ms for the write of step {} to finish: the store is slower than "
                + "the checkpoint interval", nextStep, TimeUnit.NANOSECONDS.toMillis(waitedNs), inFlightStep);
        }
        collect();
    }

    /** Waits for the write in flight; true when it is done (successfully or not), false on timeout. */
    private boolean awaitQuietly(final long timeoutNs) throws IOException
    {
        try
        {
            inFlight.get(timeoutNs, TimeUnit.NANOSECONDS);
            return true;
        }
        catch (final ExecutionException ex)
        {
            return true;
        }
        catch (final TimeoutException ex)
        {
            return false;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the write of checkpoint step "
                + inFlightStep);
        }
    }

    /** Takes the outcome of the finished write in flight; throws its error once. */
    private void collect() throws IOException
    {
        final Future<Checkpoint> done = inFlight;
        final long step = inFlightStep;
        inFlight = null;
        try
        {
            lastPublished = done.get();
        }
        catch (final ExecutionException ex)
        {
            throw new CheckpointWriteException(step, "background write of checkpoint step " + step + " to "
                + store.dir() + " failed: " + ex.getCause(), ex.getCause());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while collecting checkpoint step " + step);
        }
    }

    private void ensureOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("checkpoint writer of " + store.dir() + " is closed");
        }
    }
}
