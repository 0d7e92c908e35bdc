package io.baton.common.collective;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one embedded media driver of this JVM, shared and reference counted by its communicators: started by the
 * first {@link #acquire}, closed and its directory deleted by the last {@link #release}.
 *
 * <p>The driver runs in {@link ThreadingMode#INVOKER} mode: it has no busy thread of its own. A communicator thread
 * waiting in a collective runs the driver's duty cycle itself ({@link #invoke()}, between its own polls), so a
 * message goes app -> socket -> app without waking a driver thread (UDP 1 KB all-reduce ~12 us instead of
 * 130-400 us with a SHARED driver thread that parks up to 100 us), and no driver thread competes with compute on a
 * pinned core. Between collectives a daemon keeper thread runs the duty cycle every {@link #KEEPER_PERIOD_NS}
 * (status messages, heartbeats, client commands and liveness keep working while the replica computes). While a
 * bulk (chunked, bandwidth-bound) operation runs ({@link #beginBulk()}), the keeper runs the duty cycle
 * continuously with the communicator's backoff idle strategy, so sending and receiving overlap with the caller's
 * copies and additions as with a driver thread of its own.
 * The duty cycle has one runner at a time: whoever gets {@link #INVOKE_LOCK}; the others skip.
 *
 * <p>With {@link CollectiveSettings#embeddedDriverLingerNs()} > 0 (set by the last communicator to acquire it), the
 * last release leaves the driver (and its keeper) running that long: an {@link #acquire} in that time with the same
 * driver settings uses it instead of starting one (a driver start took ~0.15 s per stage), one with other settings
 * closes it and starts its own. A daemon thread closes it when the time is up, a shutdown hook when the JVM exits.
 */
final class EmbeddedDriver
{
    /**
     * Period of the keeper's duty cycle while no collective runs the driver. Every wake-up preempts the replica's
     * compute on its core (1 ms was 1,200-1,800 wake-ups/s), and nothing needs it faster: a collective sends its own
     * frames before it returns, and the driver's heartbeats (100 ms), status messages (200 ms) and liveness
     * timeouts (>= 200 ms) are far longer.
     */
    static final long KEEPER_PERIOD_NS = TimeUnit.MILLISECONDS.toNanos(10);

    /** Longest park of the driver's async executor thread when it has no task. */
    static final long ASYNC_EXECUTOR_MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(10);

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDriver.class);
    private static final Object LOCK = new Object();
    private static final ReentrantLock INVOKE_LOCK = new ReentrantLock();
    private static MediaDriver driver;
    private static File directory;
    private static int references;
    private static DriverSettings inForce;
    private static String lastMismatch;
    /** How long the last release leaves the driver running (the last acquirer's setting). */
    private static long lingerNs;
    /** When a lingering driver (no reference) closes, in System.nanoTime(). */
    private static long lingerUntilNs;
    /** The thread that closes a lingering driver, or null. */
    private static Thread lingerer;
    private static boolean shutdownHookAdded;
    private static Thread keeper;
    private static volatile boolean keeperRunning;
    private static volatile AgentInvoker invoker;
    private static volatile Thread keeperToWake;
    private static volatile IdleStrategy bulkIdle;
    private static final AtomicInteger BULK_OPERATIONS = new AtomicInteger();
    /** Links parked by {@link #park} for the next stage, by their key; closed with the driver. Guarded by LOCK. */
    private static final Map<String, AeronLink.Parked> PARKED = new HashMap<>();
    /** Parked links taken again by {@link #unpark} since the class loaded (tests). */
    private static long reusedLinks;

    private EmbeddedDriver()
    {
    }

    /** Starts the driver if needed and returns its directory; pair with {@link #release()}. */
    static String acquire(final CollectiveSettings settings)
    {
        synchronized (LOCK)
        {
            if (references == 0)
            {
                final DriverSettings asked = DriverSettings.of(settings);
                if (driver != null && !inForce.equals(asked))
                {
                    // A lingering driver of other settings: this communicator gets a driver of its own settings.
                    closeNow();
                }
                if (driver == null)
                {
                    start(settings);
                    inForce = asked;
                }
                else
                {
                    LOG.debug("embedded Aeron driver in {} reused", directory);
                }
                lastMismatch = null;
            }
            else
            {
                final String differences = inForce.differences(DriverSettings.of(settings));
                if (!differences.isEmpty())
                {
                    // The driver is one per JVM: its settings are those of the communicator that started it.
                    lastMismatch = "the embedded Aeron driver of this JVM (" + directory + ") runs with the settings "
                        + "of the communicator that started it; a later one asked for " + differences
                        + ": it shares the running driver's settings (use collective.driver = external or shared "
                        + "to give replicas of one JVM a driver of their own settings)";
                    LOG.warn(lastMismatch);
                }
            }
            lingerNs = settings.embeddedDriverLingerNs();
            references++;
            return directory.getAbsolutePath();
        }
    }

    /** The warning of the last communicator that asked a running driver for other settings, or null (tests). */
    static String lastMismatch()
    {
        synchronized (LOCK)
        {
            return lastMismatch;
        }
    }

    /** The settings that shape the driver itself (the rest of {@link CollectiveSettings} is per communicator). */
    record DriverSettings(String parentDirectory, int termLength, int mtuLength, int socketSendBufferLength,
        int socketReceiveBufferLength, int receiveWindowLength, long livenessNs)
    {
        static DriverSettings of(final CollectiveSettings settings)
        {
            return new DriverSettings(settings.embeddedDriverParentDirectory(), settings.termLength(),
                settings.mtuLength(), settings.socketSendBufferLength(), settings.socketReceiveBufferLength(),
                settings.receiveWindowLength(), EmbeddedDriver.livenessNs(settings));
        }

        /** What {@code asked} sets differently, as "name X (running: Y)" items; empty when nothing differs. */
        String differences(final DriverSettings asked)
        {
            final StringBuilder out = new StringBuilder();
            differ(out, "driver parent directory", asked.parentDirectory, parentDirectory);
            differ(out, "term length", asked.termLength, termLength);
            differ(out, "MTU", asked.mtuLength, mtuLength);
            differ(out, "socket send buffer", asked.socketSendBufferLength, socketSendBufferLength);
            differ(out, "socket receive buffer", asked.socketReceiveBufferLength, socketReceiveBufferLength);
            differ(out, "receive window", asked.receiveWindowLength, receiveWindowLength);
            differ(out, "image liveness timeout (ns, from the operation deadline)", asked.livenessNs, livenessNs);
            return out.toString();
        }

        private static void differ(final StringBuilder out, final String name, final Object asked,
            final Object running)
        {
            if (!asked.equals(running))
            {
                out.append(out.length() == 0 ? "" : ", ").append(name).append(' ').append(asked)
                    .append(" (running: ").append(running).append(')');
            }
        }
    }

    private static long livenessNs(final CollectiveSettings settings)
    {
        return Math.max(settings.operationDeadlineNs() / 2, 200_000_000L);
    }

    /**
     * Runs one duty cycle of the driver (sender, receiver, conductor) on the calling thread, unless another thread
     * is running it right now or no driver runs.
     *
     * @return the work count of the duty cycle (0 when skipped).
     */
    static int invoke()
    {
        final AgentInvoker current = invoker;
        // An interrupt inside a socket call would close the driver's (interruptible NIO) channel for every
        // communicator of this JVM: an interrupted caller leaves the duty cycle to the keeper.
        if (current == null || Thread.currentThread().isInterrupted() || !INVOKE_LOCK.tryLock())
        {
            return 0;
        }
        try
        {
            return invoker == current ? current.invoke() : 0;
        }
        finally
        {
            INVOKE_LOCK.unlock();
        }
    }

    /** A bandwidth-bound operation starts: the keeper runs the duty cycle continuously until {@link #endBulk()}. */
    static void beginBulk()
    {
        if (BULK_OPERATIONS.getAndIncrement() == 0)
        {
            final Thread thread = keeperToWake;
            if (thread != null)
            {
                LockSupport.unpark(thread);
            }
        }
    }

    /** Pairs with {@link #beginBulk()}. */
    static void endBulk()
    {
        BULK_OPERATIONS.decrementAndGet();
    }

    /**
     * Keeps a cleanly closed IPC link of this driver (client, subscription, publications, all open) for the next link
     * of the same key; call before releasing the link's reference. False when the driver is gone or one is parked
     * under that key already: the caller closes the link then.
     */
    static boolean park(final String key, final AeronLink.Parked link)
    {
        synchronized (LOCK)
        {
            if (driver == null || references == 0 || PARKED.containsKey(key))
            {
                return false;
            }
            PARKED.put(key, link);
            return true;
        }
    }

    /**
     * The parked link of {@code key}, now the caller's, or null. On a miss every parked link is closed: a parked
     * subscription nobody polls would hold back an IPC publication to its stream (an IPC publication advances no
     * faster than its slowest subscriber), so a link that opens anew must not find an idle one beside it.
     */
    static AeronLink.Parked unpark(final String key)
    {
        synchronized (LOCK)
        {
            final AeronLink.Parked link = PARKED.remove(key);
            if (link == null)
            {
                closeParked();
            }
            else
            {
                reusedLinks++;
            }
            return link;
        }
    }

    /** Links parked now (tests). */
    static int parkedLinks()
    {
        synchronized (LOCK)
        {
            return PARKED.size();
        }
    }

    /** Parked links taken again since the class loaded (tests). */
    static long reusedLinks()
    {
        synchronized (LOCK)
        {
            return reusedLinks;
        }
    }

    /** Closes every parked link; the caller holds LOCK. */
    private static void closeParked()
    {
        for (final AeronLink.Parked link : PARKED.values())
        {
            CloseHelper.quietClose(link);
        }
        PARKED.clear();
    }

    /** Drops one reference; the last one closes the driver and removes its directory. */
    static void release()
    {
        synchronized (LOCK)
        {
            if (references == 0)
            {
                throw new IllegalStateException("EmbeddedDriver released more often than acquired");
            }
            if (--references == 0)
            {
                if (lingerNs > 0)
                {
                    lingerUntilNs = System.nanoTime() + lingerNs;
                    if (lingerer == null)
                    {
                        lingerer = new Thread(EmbeddedDriver::closeWhenLingered, "baton-aeron-driver-linger");
                        lingerer.setDaemon(true);
                        lingerer.start();
                    }
                    else
                    {
                        // A lingerer still waiting out an earlier (longer) linger: it takes the new deadline.
                        LOCK.notifyAll();
                    }
                    return;
                }
                closeNow();
            }
        }
    }

    /** The linger thread: closes the driver once it has had no reference for its linger time. */
    private static void closeWhenLingered()
    {
        synchronized (LOCK)
        {
            try
            {
                while (references == 0 && driver != null)
                {
                    final long leftNs = lingerUntilNs - System.nanoTime();
                    if (leftNs <= 0)
                    {
                        closeNow();
                        break;
                    }
                    LOCK.wait(TimeUnit.NANOSECONDS.toMillis(leftNs) + 1);
                }
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            finally
            {
                lingerer = null;
            }
        }
    }

    /** At JVM exit: closes a lingering driver (one with references is its communicators' to close). */
    private static void closeIfLingering()
    {
        synchronized (LOCK)
        {
            if (references == 0 && driver != null)
            {
                closeNow();
            }
        }
    }

    /** Closes the driver and removes its directory; the caller holds LOCK. */
    private static void closeNow()
    {
        final File dir = directory;
        // Its clients first, while the keeper still runs the driver's duty cycle for their close commands.
        closeParked();
        stopKeeper();
        INVOKE_LOCK.lock();
        try
        {
            invoker = null;
        }
        finally
        {
            INVOKE_LOCK.unlock();
        }
        CloseHelper.quietClose(driver);
        driver = null;
        directory = null;
        deleteRecursively(dir);
    }

    /**
     * Closes the driver and every parked link, whatever references remain, and forgets those references (tests: a
     * communicator a test left open must fail that test only, not leave its driver, reference count and unpolled
     * subscriptions to every test after it). The leaked communicator must not be closed afterwards: its release
     * would find no reference.
     */
    static void forceClose()
    {
        synchronized (LOCK)
        {
            references = 0;
            closeNow();
            // A lingerer waiting out its time finds no driver and ends now instead of at its deadline.
            LOCK.notifyAll();
        }
    }

    /** Directory of the running embedded driver, or null when none runs (tests check for leaks). */
    static String activeDirectory()
    {
        synchronized (LOCK)
        {
            return directory == null ? null : directory.getAbsolutePath();
        }
    }

    static int references()
    {
        synchronized (LOCK)
        {
            return references;
        }
    }

    /** Removes directories left by embedded drivers of processes that died without closing (e.g. SIGKILL). */
    private static void removeDirectoriesOfDeadProcesses(final File parent)
    {
        final File[] candidates = parent.listFiles((d, name) -> name.startsWith("baton-aeron-"));
        for (final File candidate : candidates == null ? new File[0] : candidates)
        {
            final String[] parts = candidate.getName().split("-");
            try
            {
                final long pid = Long.parseLong(parts[2]);
                if (ProcessHandle.of(pid).isEmpty())
                {
                    LOG.info("removing {} left by dead process {}", candidate, pid);
                    deleteRecursively(candidate);
                }
            }
            catch (final RuntimeException ignored)
            {
                // not one of ours
            }
        }
    }

    private static void start(final CollectiveSettings settings)
    {
        removeDirectoriesOfDeadProcesses(new File(settings.embeddedDriverParentDirectory()));
        final File dir;
        try
        {
            dir = Files.createTempDirectory(Path.of(settings.embeddedDriverParentDirectory()),
                "baton-aeron-" + ProcessHandle.current().pid() + "-").toFile();
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("cannot create embedded Aeron directory under " +
                settings.embeddedDriverParentDirectory(), ex);
        }
        final long livenessNs = livenessNs(settings);
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .aeronDirectoryName(dir.getAbsolutePath())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.INVOKER)
            .termBufferSparseFile(false)
            .publicationTermBufferLength(settings.termLength())
            .ipcTermBufferLength(settings.termLength())
            .mtuLength(settings.mtuLength())
            .ipcMtuLength(settings.mtuLength())
            .socketSndbufLength(settings.socketSendBufferLength())
            .socketRcvbufLength(settings.socketReceiveBufferLength())
            .initialWindowLength(settings.receiveWindowLength())
            .imageLivenessTimeoutNs(livenessNs)
            .publicationConnectionTimeoutNs(livenessNs)
            .warnIfDirectoryExists(false)
            // The driver's async executor (runs each client command's name resolution) polls every 1 ms by default:
            // ~1000 wake-ups a second on the replica's core while it computes (measured: it and the 1 ms keeper took
            // ~36 ms/s of CPU and preempted the training thread ~2000 times a second). Back off from 1 ms to 10 ms
            // when idle: 100 wake-ups a second, and a command still waits at most 10 ms for it.
            .asyncExecutorIdleStrategy(new BackoffIdleStrategy(
                1, 1, TimeUnit.MILLISECONDS.toNanos(1), ASYNC_EXECUTOR_MAX_PARK_NS))
            .errorHandler((ex) -> LOG.warn("embedded Aeron driver in {}: {}", dir, ex.toString()));
        try
        {
            driver = MediaDriver.launch(ctx);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(ctx::close);
            deleteRecursively(dir);
            throw ex;
        }
        directory = dir;
        invoker = driver.sharedAgentInvoker();
        bulkIdle = AeronCommunicator.idleStrategy(settings);
        keeper = new Thread(EmbeddedDriver::keep, "baton-aeron-driver-keeper");
        keeperToWake = keeper;
        keeperRunning = true;
        keeper.setDaemon(true);
        keeper.start();
        if (!shutdownHookAdded)
        {
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedDriver::closeIfLingering,
                "baton-aeron-driver-exit"));
            shutdownHookAdded = true;
        }
        LOG.debug("embedded Aeron driver started in {}", dir);
    }

    private static void keep()
    {
        final SleepingIdleStrategy sleep = new SleepingIdleStrategy(KEEPER_PERIOD_NS);
        final IdleStrategy busy = bulkIdle;
        while (keeperRunning)
        {
            int work = 0;
            try
            {
                work = invoke();
            }
            catch (final RuntimeException ex)
            {
                LOG.warn("embedded Aeron driver duty cycle failed: {}", ex.toString());
            }
            if (BULK_OPERATIONS.get() > 0)
            {
                busy.idle(work);
            }
            else
            {
                busy.reset();
                sleep.idle();
            }
        }
    }

    private static void stopKeeper()
    {
        final Thread thread = keeper;
        keeper = null;
        keeperToWake = null;
        if (thread == null)
        {
            return;
        }
        keeperRunning = false;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive())
        {
            try
            {
                thread.join();
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

    static void deleteRecursively(final File dir)
    {
        if (dir == null || !dir.exists())
        {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir.toPath()))
        {
            paths.sorted(Comparator.reverseOrder()).forEach((p) -> p.toFile().delete());
        }
        catch (final IOException ex)
        {
            LOG.warn("cannot delete {}: {}", dir, ex.toString());
        }
    }
}
