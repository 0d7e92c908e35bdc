package io.baton.common.collective;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one embedded media driver of this JVM, shared and reference counted by its communicators: started by the
 * first {@link #acquire}, closed and its directory deleted by the last {@link #release}.
 */
final class EmbeddedDriver
{
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDriver.class);
    private static final Object LOCK = new Object();
    private static MediaDriver driver;
    private static File directory;
    private static int references;

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
                start(settings);
            }
            references++;
            return directory.getAbsolutePath();
        }
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
                final File dir = directory;
                CloseHelper.quietClose(driver);
                driver = null;
                directory = null;
                deleteRecursively(dir);
            }
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
        final long livenessNs = Math.max(settings.operationDeadlineNs() / 2, 200_000_000L);
        final MediaDriver.Context ctx = new MediaDriver.Context()
            .aeronDirectoryName(dir.getAbsolutePath())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(AeronCommunicator.idleStrategy(settings))
            .termBufferSparseFile(true)
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
        LOG.debug("embedded Aeron driver started in {}", dir);
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
