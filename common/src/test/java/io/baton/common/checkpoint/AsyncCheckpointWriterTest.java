package io.baton.common.checkpoint;

import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static io.baton.common.checkpoint.CheckpointTestSupport.bytes;
import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The background writer against a local file system whose creates can be held at a gate (a store as slow as the
 * test wants), and deferred snapshots held at a latch, so ordering is asserted without timing.
 */
class AsyncCheckpointWriterTest
{
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    java.nio.file.Path tmp;
    private ScriptedFileSystem fs;
    private CheckpointStore store;

    @BeforeEach
    void setUp() throws IOException
    {
        fs = new ScriptedFileSystem();
        store = CheckpointStore.open(fs, new Path(tmp.toUri().toString(), "run"), RetentionPolicy.keepLast(5));
    }

    @AfterEach
    void tearDown() throws IOException
    {
        fs.openGate();
        store.close();
        fs.close();
    }

    @Test
    void shouldReturnToTheCallerWhileTheWriteIsStillRunning() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            fs.closeGate();
            final String caller = Thread.currentThread().getName();
            final AtomicReference<String> snapshotThread = new AtomicReference<>();
            writer.submit(metadata(10), () ->
            {
                snapshotThread.set(Thread.currentThread().getName());
                return parts(10);
            });
            // submit returned although the store cannot write anything yet
            awaitTrue(() -> fs.heldAtGate() == 1, "the background write reaches the store");
            assertEquals(caller, snapshotThread.get(), "the snapshot runs on the caller's thread");
            assertEquals(List.of(), store.list());

            fs.openGate();
            final Checkpoint published = writer.flush();
            assertEquals(10, published.step());
            assertEquals(List.of(10L), store.list());
            assertArrayEquals(bytes(10, 300_000), store.latestValid().checkpoint().readPart("params"));
            assertEquals(0, writer.backPressureWaits());
        }
    }

    @Test
    void shouldKeepAtMostOneWriteInFlightAndMakeTheNextSubmitWait() throws Exception
    {
        final List<String> events = new CopyOnWriteArrayList<>();
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            fs.closeGate();
            writer.submit(metadata(10), () ->
            {
                events.add("snapshot 10");
                return parts(10);
            });
            awaitTrue(() -> fs.heldAtGate() == 1, "the first write reaches the store");

            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread second = new Thread(() ->
            {
                try
                {
                    writer.submit(metadata(20), () ->
                    {
                        events.add("snapshot 20 after " + store.list());
                        return parts(20);
                    });
                }
                catch (final Throwable ex)
                {
                    failure.set(ex);
                }
            }, "second-submit");
            second.start();
            // Without back-pressure the second submit would take its snapshot and return while 10 is held.
            awaitTrue(() -> second.getState() == Thread.State.WAITING || second.getState() == Thread.State.TIMED_WAITING
                || !second.isAlive(), "the second submit blocks or ends");
            assertTrue(second.isAlive(), "the second submit must wait for the write in flight");
            assertEquals(List.of("snapshot 10"), events, "no second snapshot while a write is in flight");
            assertEquals(1, fs.heldAtGate());

            fs.openGate();
            second.join(60_000);
            assertNull(failure.get());
            assertEquals(List.of("snapshot 10", "snapshot 20 after [10]"), events);
            writer.flush();
            assertEquals(List.of(10L, 20L), store.list());
            assertEquals(1, fs.maxOpenForWrite(), "never two files open for writing at once");
            assertEquals(1, writer.backPressureWaits());
            assertTrue(writer.backPressureNs() > 0);
        }
    }

    @Test
    void shouldSurfaceAFailedBackgroundWriteOnTheNextSubmitOnce() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            writer.submit(metadata(10), parts(10));
            writer.flush();
            fs.failCreateOf(p -> p.getParent().getName().contains("ckpt-000000000020"));
            writer.submit(metadata(20), parts(20));

            final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class,
                () -> writer.submit(metadata(30), parts(30)));
            assertEquals(20, ex.step());
            assertTrue(ex.getMessage().contains("background write of checkpoint step 20"), ex.getMessage());
            assertTrue(ex.getCause().getMessage().contains("injected create failure"), ex.getCause().getMessage());
            assertEquals(List.of(10L), store.list(), "the failed checkpoint is not published, 30 not started");

            writer.submit(metadata(30), parts(30));
            assertEquals(30, writer.flush().step());
            assertEquals(List.of(10L, 30L), store.list());
        }
    }

    @Test
    void shouldSurfaceAFailedBackgroundWriteOnClose() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT);
        fs.failCreateOf(p -> true);
        writer.submit(metadata(10), parts(10));

        final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::close);
        assertEquals(10, ex.step());
        writer.close();
        assertThrows(IllegalStateException.class, () -> writer.submit(metadata(20), parts(20)));
    }

    @Test
    void shouldWaitForTheWriteInFlightOnClose() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT);
        fs.closeGate();
        writer.submit(metadata(10), parts(10));
        awaitTrue(() -> fs.heldAtGate() == 1, "the write reaches the store");

        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread closer = new Thread(() ->
        {
            try
            {
                writer.close();
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
        }, "closer");
        closer.start();
        awaitTrue(() -> closer.getState() == Thread.State.TIMED_WAITING || !closer.isAlive(), "close blocks or ends");
        assertTrue(closer.isAlive(), "close must wait for the write in flight");
        assertEquals(List.of(), store.list());

        fs.openGate();
        closer.join(60_000);
        assertNull(failure.get());
        assertEquals(List.of(10L), store.list(), "the write in flight was completed by close");
    }

    @Test
    void shouldCancelAWriteThatOutlastsTheCloseTimeoutWithoutInterruptingIt() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMillis(50));
        fs.closeGate();
        writer.submit(metadata(10), parts(10));

        final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::close);
        assertTrue(ex.getMessage().contains("did not finish within 50 ms"), ex.getMessage());
        assertTrue(ex.getMessage().contains("it was cancelled"), ex.getMessage());
        // A create in flight (an HDFS write, say) is left to return; the write then stops and removes its staging.
        fs.openGate();
        awaitTrue(() -> fs.heldAtGate() == 0, "the cancelled write leaves the gate");
        assertEquals(0, fs.interruptedAtGate(), "the write in flight was interrupted");
        awaitTrue(() -> noEntries(store.dir()), "the cancelled write removes its staging directory");
        assertEquals(List.of(), store.list());
    }

    @Test
    void shouldStopACancelledWriteInTheMiddleOfAPartAtItsNextSlice() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMillis(50));
        final AtomicInteger slicesWritten = new AtomicInteger();
        final AtomicBoolean interrupted = new AtomicBoolean();
        final AtomicReference<Thread> writerThread = new AtomicReference<>();
        final byte[] slice = new byte[1 << 20];
        writer.submit(metadata(10), List.of(CheckpointPart.streamed("params", out ->
        {
            writerThread.set(Thread.currentThread());
            for (int i = 0; i < 1000; i++)
            {
                out.write(slice);
                slicesWritten.incrementAndGet();
                interrupted.compareAndSet(false, Thread.currentThread().isInterrupted());
                pauseUninterruptibly(20);
            }
        })));

        final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::close);
        assertTrue(ex.getMessage().contains("it was cancelled"), ex.getMessage());
        awaitTrue(() -> noEntries(store.dir()), "the cancelled write removes its staging directory");
        assertFalse(interrupted.get(), "the writer thread was interrupted");
        assertTrue(slicesWritten.get() < 1000, "the write ran to its end: " + slicesWritten.get() + " slices");
        assertEquals(List.of(), store.list());
    }

    /** Sleeps, ignoring interrupts as a slow write would (and recording them in the thread's flag). */
    private static void pauseUninterruptibly(final long ms)
    {
        final long endNs = System.nanoTime() + ms * 1_000_000;
        boolean interrupted = false;
        while (System.nanoTime() < endNs)
        {
            try
            {
                Thread.sleep(Math.max(1, (endNs - System.nanoTime()) / 1_000_000));
            }
            catch (final InterruptedException ex)
            {
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    private boolean noEntries(final Path dir)
    {
        try
        {
            return !fs.exists(dir) || fs.listStatus(dir).length == 0;
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    @Test
    void shouldTakeADeferredSnapshotOnTheWriterThreadAfterSubmitReturned() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicReference<String> snapshotThread = new AtomicReference<>();
            writer.submitDeferred(metadata(10), () ->
            {
                snapshotThread.set(Thread.currentThread().getName());
                await(release);
                return parts(10);
            });
            // submit returned although the snapshot cannot finish yet
            awaitTrue(() -> snapshotThread.get() != null, "the snapshot starts");
            assertEquals("baton-checkpoint-writer", snapshotThread.get());
            assertEquals(List.of(), store.list());

            release.countDown();
            assertEquals(10, writer.flush().step());
            assertArrayEquals(bytes(10, 300_000), store.latestValid().checkpoint().readPart("params"));
        }
    }

    @Test
    void shouldBlockTheFenceUntilTheSnapshotIsTaken() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicBoolean taken = new AtomicBoolean();
            writer.submitDeferred(metadata(10), () ->
            {
                await(release);
                taken.set(true);
                return parts(10);
            });
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final AtomicBoolean fenceSawSnapshot = new AtomicBoolean();
            final Thread fence = new Thread(() ->
            {
                try
                {
                    writer.awaitSnapshot();
                    fenceSawSnapshot.set(taken.get());
                }
                catch (final Throwable ex)
                {
                    failure.set(ex);
                }
            }, "fence");
            fence.start();
            awaitTrue(() -> isParkedIn(fence, "awaitSnapshot") || !fence.isAlive(), "the fence blocks or ends");
            assertTrue(fence.isAlive(), "the fence must wait for the snapshot");

            release.countDown();
            fence.join(60_000);
            assertNull(failure.get());
            assertTrue(fenceSawSnapshot.get(), "the fence returned only once the snapshot was taken");
            assertEquals(1, writer.snapshotWaits());
            assertTrue(writer.snapshotWaitNs() > 0);
            writer.awaitSnapshot();
            assertEquals(1, writer.snapshotWaits(), "a second fence has nothing to wait for");
            assertEquals(10, writer.flush().step());
        }
    }

    @Test
    void shouldKeepAStateChangeAfterTheFenceOutOfTheCheckpoint() throws Exception
    {
        final int size = 1 << 20;
        final ByteBuffer live = ByteBuffer.allocateDirect(size).put(bytes(10, size)).flip();
        final ByteBuffer host = ByteBuffer.allocate(size);
        final Thread caller = Thread.currentThread();
        final AtomicBoolean changed = new AtomicBoolean();
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            writer.submitDeferred(metadata(10), () ->
            {
                // Copy only once the caller is parked in the fence, or has changed the state (no fence): as late
                // as possible, so a missing fence is caught every time.
                awaitUninterruptibly(() -> isParkedIn(caller, "awaitSnapshot") || changed.get());
                host.clear().put(live.duplicate().clear()).flip();
                return List.of(CheckpointPart.ofBuffer("params", host));
            });
            writer.awaitSnapshot();
            live.clear().put(bytes(11, size)).flip();
            changed.set(true);

            assertEquals(10, writer.flush().step());
            final byte[] written = store.latestValid().checkpoint().readPart("params");
            assertTrue(Arrays.equals(bytes(10, size), written), "the checkpoint holds the state of the submit, not "
                + "the one changed after the fence");
        }
    }

    @Test
    void shouldSurfaceAFailedSnapshotAtTheFenceNamingTheStepOnce() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            writer.submitDeferred(metadata(10), () ->
            {
                throw new IOException("injected snapshot failure");
            });
            final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::awaitSnapshot);
            assertEquals(10, ex.step());
            assertTrue(ex.getMessage().contains("snapshot of checkpoint step 10 failed"), ex.getMessage());
            assertEquals("injected snapshot failure", ex.getCause().getMessage());

            assertNull(writer.flush(), "reported once, nothing published");
            assertEquals(List.of(), store.list());
            writer.submitDeferred(metadata(20), () -> parts(20));
            writer.awaitSnapshot();
            assertEquals(20, writer.flush().step());
            assertEquals(List.of(20L), store.list());
        }
    }

    @Test
    void shouldSurfaceAFailedSnapshotOnFlushWithoutAFence() throws Exception
    {
        try (AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT))
        {
            writer.submitDeferred(metadata(10), () ->
            {
                throw new IllegalStateException("injected snapshot bug");
            });
            final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::flush);
            assertEquals(10, ex.step());
            assertTrue(ex.getMessage().contains("snapshot of checkpoint step 10 failed"), ex.getMessage());
            assertTrue(ex.getCause() instanceof IllegalStateException, String.valueOf(ex.getCause()));
            writer.awaitSnapshot();
            assertEquals(List.of(), store.list());
        }
    }

    @Test
    void shouldWaitForAPendingSnapshotAndItsWriteOnClose() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, CLOSE_TIMEOUT);
        final CountDownLatch release = new CountDownLatch(1);
        writer.submitDeferred(metadata(10), () ->
        {
            await(release);
            return parts(10);
        });
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread closer = new Thread(() ->
        {
            try
            {
                writer.close();
            }
            catch (final Throwable ex)
            {
                failure.set(ex);
            }
        }, "closer");
        closer.start();
        awaitTrue(() -> closer.getState() == Thread.State.TIMED_WAITING || !closer.isAlive(), "close blocks or ends");
        assertTrue(closer.isAlive(), "close must wait for the pending snapshot");

        release.countDown();
        closer.join(60_000);
        assertNull(failure.get());
        assertEquals(List.of(10L), store.list(), "the pending snapshot was taken and written by close");
        assertArrayEquals(bytes(10, 300_000), store.latestValid().checkpoint().readPart("params"));
    }

    @Test
    void shouldNeverPublishASnapshotThatOutlastsTheCloseTimeout() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMillis(50));
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicReference<Thread> writerThread = new AtomicReference<>();
        final AtomicBoolean partWritten = new AtomicBoolean();
        writer.submitDeferred(metadata(10), () ->
        {
            writerThread.set(Thread.currentThread());
            awaitUninterruptibly(() -> release.getCount() == 0);
            return List.of(CheckpointPart.streamed("params", out -> partWritten.set(true)));
        });

        final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::close);
        assertEquals(10, ex.step());
        assertTrue(ex.getMessage().contains("did not finish within 50 ms of close (its snapshot was still being "
            + "taken)"), ex.getMessage());
        // The snapshot completes after close gave up: it must not be written.
        release.countDown();
        writerThread.get().join(60_000);
        assertFalse(writerThread.get().isAlive());
        assertFalse(partWritten.get(), "an abandoned snapshot is not written");
        assertEquals(List.of(), store.list());
    }

    /** True when {@code thread} is parked (waiting) inside a method named {@code method}. */
    private static boolean isParkedIn(final Thread thread, final String method)
    {
        final Thread.State state = thread.getState();
        if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING)
        {
            return false;
        }
        return Arrays.stream(thread.getStackTrace()).anyMatch(frame -> frame.getMethodName().equals(method));
    }

    private static void await(final CountDownLatch latch) throws IOException
    {
        try
        {
            latch.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted at the test's snapshot latch");
        }
    }

    /** Spins (with short sleeps, ignoring interrupts as a memory copy would) until the condition holds; 30 s cap. */
    private static void awaitUninterruptibly(final BooleanSupplier condition)
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        boolean interrupted = false;
        while (!condition.getAsBoolean() && System.nanoTime() < deadlineNs)
        {
            try
            {
                Thread.sleep(1);
            }
            catch (final InterruptedException ex)
            {
                interrupted = true;
            }
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Polls a condition that must become true soon; fails (no hang) after 30 s. */
    private static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new AssertionError("not reached within 30 s: " + what);
            }
            Thread.sleep(1);
        }
    }
}
