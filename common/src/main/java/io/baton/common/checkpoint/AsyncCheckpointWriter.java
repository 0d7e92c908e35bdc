package io.baton.common.checkpoint;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes checkpoints to a {@link CheckpointStore} on one background thread, with at most one write in flight.
 * Every submit first waits for the previous write (back-pressure, logged as a warning with the time waited); since
 * a snapshot is only taken once the previous write is over, one reusable host buffer suffices and memory never piles
 * up. Two ways to take the snapshot (the host copy of the state):
 * <ul>
 *   <li>{@link #submitDeferred(CheckpointMetadata, Snapshot)} returns at once; the writer thread takes the snapshot,
 *   then writes. The caller keeps reading the state (the next step's forward and backward) and calls
 *   {@link #awaitSnapshot()} — the fence — right before it next <em>writes</em> the state: the fence blocks until the
 *   copy is done, so the checkpoint holds exactly the state of the submit. The training stall is the fence's wait
 *   ({@link #snapshotWaitNs()}), zero when the step reading the state outlasts the copy.</li>
 *   <li>{@link #submit(CheckpointMetadata, Snapshot)} takes the snapshot on the caller's thread before it returns;
 *   no fence is needed, and the stall is the whole copy.</li>
 * </ul>
 *
 * <p>A failed snapshot or background write is never swallowed: the fence (for a deferred snapshot), the next
 * {@code submit}, {@link #flush} or {@link #close} throws a {@link CheckpointWriteException} naming its step, with
 * the original error as the cause (once). A failed checkpoint is not published.
 *
 * <p>Threading: meant for one thread (the training loop), which owns the state a snapshot reads; methods are
 * synchronized, so {@link #close} may also come from another thread (a shutdown hook) and then waits for a fence in
 * progress. The writer thread is a daemon named {@code baton-checkpoint-writer}; it runs deferred snapshots and
 * writes, never takes this object's lock, and hands results back only through futures (which order the copy before
 * whatever the caller does after the fence). Between a deferred submit and its fence (or {@link #flush},
 * {@link #close}) the caller must not write anything the snapshot reads.
 */
public final class AsyncCheckpointWriter implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(AsyncCheckpointWriter.class);

    private final CheckpointStore store;
    private final long closeTimeoutNs;
    private final ExecutorService executor;
    private Future<Checkpoint> inFlight;
    private long inFlightStep = -1;
    /** Cancelled when close gives up on the write in flight: it stops at its next slice and never publishes. */
    private WriteCancellation inFlightCancellation;
    /** Completes when the deferred snapshot of the write in flight is taken (or failed); null once fenced. */
    private CompletableFuture<Void> pendingSnapshot;
    private Checkpoint lastPublished;
    private long backPressureWaits;
    private long backPressureNs;
    private long snapshotWaits;
    private long snapshotWaitNs;
    private boolean closed;

    /**
     * Takes the host copy of the state and returns it as parts that nobody mutates until the write is over. Runs on
     * the caller's thread for {@link #submit(CheckpointMetadata, Snapshot)}, on the writer thread for
     * {@link #submitDeferred(CheckpointMetadata, Snapshot)} (then it must only read what the caller leaves unchanged
     * until {@link #awaitSnapshot()}).
     */
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
        final WriteCancellation cancellation = new WriteCancellation();
        start(metadata.step(), null, cancellation, () -> store.write(metadata, parts, cancellation));
    }

    /**
     * Waits for the previous write if it is still running, then returns at once: the writer thread takes the
     * snapshot and writes it. Call {@link #awaitSnapshot()} before changing anything the snapshot reads.
     *
     * @throws CheckpointWriteException if the previous snapshot or write failed (this checkpoint is then not
     *                                  started).
     */
    public synchronized void submitDeferred(final CheckpointMetadata metadata, final Snapshot snapshot)
        throws IOException
    {
        ensureOpen();
        awaitPrevious(metadata.step());
        final CompletableFuture<Void> taken = new CompletableFuture<>();
        final WriteCancellation cancellation = new WriteCancellation();
        start(metadata.step(), taken, cancellation, () ->
        {
            final List<CheckpointPart> parts;
            try
            {
                parts = List.copyOf(snapshot.take());
            }
            catch (final Throwable ex)
            {
                taken.completeExceptionally(ex);
                throw new SnapshotFailedException(ex);
            }
            taken.complete(null);
            return store.write(metadata, parts, cancellation);
        });
    }

    /**
     * The fence of {@link #submitDeferred}: blocks until the pending snapshot is taken, so the caller may change the
     * state again. Returns at once when no deferred snapshot is pending. The time it blocked is counted in
     * {@link #snapshotWaits()} and {@link #snapshotWaitNs()} and logged at debug.
     *
     * @throws CheckpointWriteException if the snapshot failed (the checkpoint is not written; thrown once).
     */
    public synchronized void awaitSnapshot() throws IOException
    {
        ensureOpen();
        final CompletableFuture<Void> taken = pendingSnapshot;
        if (taken == null)
        {
            return;
        }
        if (!taken.isDone())
        {
            final long startNs = System.nanoTime();
            try
            {
                taken.get();
            }
            catch (final ExecutionException ex)
            {
                // reported below, through the write's outcome
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the snapshot of checkpoint step "
                    + inFlightStep);
            }
            final long waitedNs = System.nanoTime() - startNs;
            snapshotWaits++;
            snapshotWaitNs += waitedNs;
            LOG.debug("waited {} us for the snapshot of checkpoint step {} before changing the state",
                TimeUnit.NANOSECONDS.toMicros(waitedNs), inFlightStep);
        }
        pendingSnapshot = null;
        if (taken.isCompletedExceptionally())
        {
            // The task ends right after its snapshot failed; collect reports the failure once.
            awaitQuietly(Long.MAX_VALUE);
            collect();
        }
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
     * Waits (without bound) for the write in flight, if any, and so for its snapshot.
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

    /** How many {@link #awaitSnapshot()} calls had to wait for a deferred snapshot. */
    public synchronized long snapshotWaits()
    {
        return snapshotWaits;
    }

    /** Total time {@link #awaitSnapshot()} waited for deferred snapshots, in nanoseconds. */
    public synchronized long snapshotWaitNs()
    {
        return snapshotWaitNs;
    }

    /**
     * Waits up to the close timeout for the write in flight (and its snapshot), then stops the writer thread.
     * Idempotent.
     *
     * @throws CheckpointWriteException if the snapshot or write failed or did not finish in time (it is then
     *                                  cancelled, without an interrupt, and not published, even if a deferred snapshot
     *                                  still completes; it removes its staging directory, or the next writer does).
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
                    final boolean snapshotting = pendingSnapshot != null && !pendingSnapshot.isDone();
                    final long step = inFlightStep;
                    // Cooperatively, never with an interrupt: one can break an HDFS write in flight.
                    if (inFlightCancellation.cancel())
                    {
                        inFlight = null;
                        inFlightCancellation = null;
                        pendingSnapshot = null;
                        throw new CheckpointWriteException(step, "the write of checkpoint step " + step
                            + " did not finish within " + TimeUnit.NANOSECONDS.toMillis(closeTimeoutNs)
                            + " ms of close" + (snapshotting ? " (its snapshot was still being taken)" : "")
                            + "; it was cancelled (it stops at its next 1 MB, removing its staging directory) and "
                            + "is not published", null);
                    }
                    // It had begun to publish (a rename): let that end.
                    if (!awaitQuietly(closeTimeoutNs))
                    {
                        inFlight = null;
                        inFlightCancellation = null;
                        pendingSnapshot = null;
                        throw new CheckpointWriteException(step, "checkpoint step " + step + " was still being "
                            + "published " + 2 * TimeUnit.NANOSECONDS.toMillis(closeTimeoutNs) + " ms after close; "
                            + "it is published if its manifest is in place", null);
                    }
                }
                collect();
            }
        }
        finally
        {
            // Not shutdownNow: an interrupt could break a cancelled write's I/O before it cleans up.
            executor.shutdown();
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

    /** Starts the write of {@code step} on the writer thread; {@code taken} tracks a deferred snapshot, or null. */
    private void start(final long step, final CompletableFuture<Void> taken, final WriteCancellation cancellation,
        final Callable<Checkpoint> task)
    {
        inFlightStep = step;
        inFlightCancellation = cancellation;
        pendingSnapshot = taken;
        inFlight = executor.submit(task);
    }

    /** Takes the outcome of the finished write in flight (snapshot included); throws its error once. */
    private void collect() throws IOException
    {
        final Future<Checkpoint> done = inFlight;
        final long step = inFlightStep;
        inFlight = null;
        inFlightCancellation = null;
        pendingSnapshot = null;
        try
        {
            lastPublished = done.get();
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof SnapshotFailedException snapshot)
            {
                throw new CheckpointWriteException(step, "snapshot of checkpoint step " + step + " failed: "
                    + snapshot.getCause(), snapshot.getCause());
            }
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

    /** Carries a deferred snapshot's failure out of the writer task, to tell it from a failed write. */
    private static final class SnapshotFailedException extends Exception
    {
        private static final long serialVersionUID = 1L;

        SnapshotFailedException(final Throwable cause)
        {
            super(cause);
        }
    }
}
