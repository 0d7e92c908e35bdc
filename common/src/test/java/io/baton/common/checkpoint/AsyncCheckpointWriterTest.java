package io.baton.common.checkpoint;

import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static io.baton.common.checkpoint.CheckpointTestSupport.bytes;
import static io.baton.common.checkpoint.CheckpointTestSupport.metadata;
import static io.baton.common.checkpoint.CheckpointTestSupport.parts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The background writer against a local file system whose creates can be held at a gate (a store as slow as the
 * test wants), so ordering is asserted without timing.
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
    void shouldAbandonAWriteThatOutlastsTheCloseTimeout() throws Exception
    {
        final AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMillis(50));
        fs.closeGate();
        writer.submit(metadata(10), parts(10));

        final CheckpointWriteException ex = assertThrows(CheckpointWriteException.class, writer::close);
        assertTrue(ex.getMessage().contains("did not finish within 50 ms"), ex.getMessage());
        assertEquals(List.of(), store.list());
        // The interrupted writer removes its staging directory, or the next writer does.
        awaitTrue(() -> fs.heldAtGate() == 0, "the abandoned write leaves the gate");
        try (CheckpointStore reopened = CheckpointStore.open(fs, store.dir(), RetentionPolicy.keepLast(1)))
        {
            assertEquals(List.of(), CheckpointStoreContract.names(fs.listStatus(reopened.dir())));
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
