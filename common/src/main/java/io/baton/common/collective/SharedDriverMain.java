package io.baton.common.collective;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import io.aeron.AeronCounters;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.status.CountersReader;

/**
 * The process of a host-shared media driver ({@link CollectiveSettings.DriverMode#SHARED}): started by the first
 * Baton JVM on a host that needs it ({@link SharedDriver}), used by every Baton JVM of that host, and gone on its own
 * once no client has been connected for the idle-exit time. Its one thread (SHARED threading, backoff idle) does the
 * driver's work; replicas on the host talk over IPC through it, so a bulk all-reduce between them is a copy into and
 * out of shared memory instead of a trip through the UDP stack.
 *
 * <p>Closes only while holding the directory's lock file ({@link #lockFile}) and after re-counting its
 * clients, so a JVM that found the driver alive under that lock never sees it go before it has registered.
 * Uses no other Baton class and depends on Aeron and Agrona only (it is started with their jars and Baton's common
 * classes on its class path); logs to standard error, which {@link SharedDriver} sends to a file beside the
 * directory.
 *
 * <p>Args: {@code directory idleExitMs termLength mtuLength socketBufferLength receiveWindowLength livenessNs}.
 */
public final class SharedDriverMain
{
    private static final long CHECK_PERIOD_MS = 200;
    /** Longest park of the driver thread when it has no work. */
    static final long IDLE_MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(10);

    private SharedDriverMain()
    {
    }

    public static void main(final String[] args) throws IOException, InterruptedException
    {
        if (args.length != 7)
        {
            System.err.println("usage: SharedDriverMain directory idleExitMs termLength mtuLength "
                + "socketBufferLength receiveWindowLength livenessNs");
            System.exit(2);
        }
        final File dir = new File(args[0]).getAbsoluteFile();
        final long idleExitMs = Long.parseLong(args[1]);
        final int termLength = Integer.parseInt(args[2]);
        final int mtuLength = Integer.parseInt(args[3]);
        final int socketBuffer = Integer.parseInt(args[4]);
        final int window = Integer.parseInt(args[5]);
        final long livenessNs = Long.parseLong(args[6]);
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .aeronDirectoryName(dir.getPath())
            // The JVM that started this process holds the lock and found no live driver in the directory: whatever
            // is left there belongs to a dead one.
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            // Replicas compute on the host's cores and every wake-up of this thread preempts one of them (a 100 us
            // park cost the replica on its core ~20 % in lock step, docs/BENCHMARKS.md). With IPC the driver is
            // off the message path: it only moves publisher limits and cleans terms, and while a transfer runs it
            // finds work every cycle and does not park; idle, it backs off to IDLE_MAX_PARK_NS.
            .sharedIdleStrategy(new BackoffIdleStrategy(100, 100, TimeUnit.MICROSECONDS.toNanos(1),
                IDLE_MAX_PARK_NS))
            .asyncExecutorIdleStrategy(new BackoffIdleStrategy(1, 1, TimeUnit.MILLISECONDS.toNanos(1),
                IDLE_MAX_PARK_NS))
            .termBufferSparseFile(false)
            .publicationTermBufferLength(termLength)
            .ipcTermBufferLength(termLength)
            .mtuLength(mtuLength)
            .ipcMtuLength(mtuLength)
            .socketSndbufLength(socketBuffer)
            .socketRcvbufLength(socketBuffer)
            .initialWindowLength(window)
            .imageLivenessTimeoutNs(livenessNs)
            .publicationConnectionTimeoutNs(livenessNs)
            .warnIfDirectoryExists(false)
            .errorHandler((ex) -> log("error: " + ex));
        final MediaDriver driver = MediaDriver.launch(ctx);
        ownerOnly(dir);
        boolean closed = false;
        try
        {
            log("started in " + dir + " (exits after " + idleExitMs + " ms without clients)");
            final CountersReader counters = driver.context().countersManager();
            long idleSinceMs = System.currentTimeMillis();
            while (true)
            {
                Thread.sleep(CHECK_PERIOD_MS);
                final long nowMs = System.currentTimeMillis();
                if (clients(counters) > 0)
                {
                    idleSinceMs = nowMs;
                }
                else if (nowMs - idleSinceMs >= idleExitMs)
                {
                    // Close under the directory's lock, without waiting for it: a JVM holding it may be about to
                    // connect to this driver; once closed (directory deleted), the next one to lock starts anew.
                    try (RandomAccessFile file = new RandomAccessFile(lockFile(dir), "rw");
                        FileChannel channel = file.getChannel();
                        FileLock lock = channel.tryLock())
                    {
                        if (lock != null && clients(counters) == 0)
                        {
                            log("no client for " + (nowMs - idleSinceMs) + " ms: exiting");
                            closed = true;
                            driver.close();
                            log("closed");
                            return;
                        }
                    }
                }
            }
        }
        finally
        {
            if (!closed)
            {
                driver.close();
            }
        }
    }

    /**
     * Restricts the driver's directory to its owner (rwx------): its files are the replicas' log buffers, which
     * another user of the host could otherwise read, or map and write into.
     */
    static void ownerOnly(final File dir)
    {
        try
        {
            if (dir.toPath().getFileSystem().supportedFileAttributeViews().contains("posix"))
            {
                java.nio.file.Files.setPosixFilePermissions(dir.toPath(),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            }
        }
        catch (final IOException ex)
        {
            log("cannot restrict " + dir + " to its owner: " + ex);
        }
    }

    /** The directory's lock file, beside it: {@code <directory>.lock}. Here so that this class needs no other. */
    static File lockFile(final File directory)
    {
        return new File(directory.getAbsoluteFile().getParentFile(), directory.getName() + ".lock");
    }

    /** Connected clients: each one has a heartbeat counter allocated while the driver considers it alive. */
    static int clients(final CountersReader counters)
    {
        final int[] count = {0};
        counters.forEach((counterId, typeId, keyBuffer, label) ->
        {
            if (typeId == AeronCounters.DRIVER_HEARTBEAT_TYPE_ID)
            {
                count[0]++;
            }
        });
        return count[0];
    }

    private static void log(final String message)
    {
        System.err.println(Instant.now() + " baton shared Aeron driver (pid " + ProcessHandle.current().pid() + "): "
            + message);
    }
}
