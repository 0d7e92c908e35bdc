package io.baton.common.collective;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import io.aeron.Aeron;
import io.aeron.CncFileDescriptor;
import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import org.agrona.DirectBuffer;
import org.agrona.IoUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds or starts the host-shared media driver of {@link CollectiveSettings.DriverMode#SHARED}: one driver process
 * per host and directory ({@link SharedDriverMain}), which every Baton JVM of the host uses, so that replicas on one
 * host talk to each other over IPC (NCCL and Gloo likewise use shared memory between the ranks of a node) and to
 * other hosts over UDP, with one driver per host instead of one per executor.
 *
 * <p>{@link #acquire} takes the directory's lock file, starts the driver process if none is alive in the directory
 * (detached, with {@code setsid} where it exists, log in {@code <directory>.log}) and returns a {@link Lease} still
 * holding the lock: the caller connects its Aeron client and registers (adds a publication or subscription), then
 * closes the lease. The driver exits by itself {@link CollectiveSettings#sharedDriverIdleExitNs()} after its last
 * client left, and only under the same lock, so a JVM never connects to a driver that is about to go.
 *
 * <p>Threading: any thread; acquisitions within one JVM are serialised (a file lock is held per JVM), and a lease
 * is closed by the thread that acquired it.
 */
final class SharedDriver
{
    private static final Logger LOG = LoggerFactory.getLogger(SharedDriver.class);
    /** A driver log larger than this is rotated (one previous kept) when the next driver starts. */
    static final long LOG_ROTATE_BYTES = 1L << 20;
    /** A driver whose heartbeat in its CnC file is older than this is dead (Aeron's own default is 10 s). */
    private static final long DRIVER_ALIVE_MS = 5_000;
    private static final long POLL_MS = 20;
    private static final ReentrantLock JVM_LOCK = new ReentrantLock();

    private SharedDriver()
    {
    }

    /** The directory's lock file, beside it: {@code <directory>.lock}. */
    static File lockFile(final File directory)
    {
        return SharedDriverMain.lockFile(directory);
    }

    /** The shared driver's directory: {@code driverDirectory} if set, else {@code <parent>/baton-aeron-<user>}. */
    static File directory(final CollectiveSettings settings)
    {
        if (settings.externalDriverDirectory() != null)
        {
            return new File(settings.externalDriverDirectory()).getAbsoluteFile();
        }
        final String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9_.-]", "_");
        return new File(settings.embeddedDriverParentDirectory(), "baton-aeron-" + user).getAbsoluteFile();
    }

    /**
     * Takes the lock, starts the driver if no live one uses the directory, and waits until it is alive.
     *
     * @throws IllegalStateException naming the directory if the lock or a live driver is not there within the
     *         settings' connect deadline.
     */
    static Lease acquire(final CollectiveSettings settings)
    {
        final File dir = directory(settings);
        final long deadlineNs = System.nanoTime() + settings.connectDeadlineNs();
        enter(deadlineNs, dir);
        RandomAccessFile file = null;
        FileLock lock = null;
        try
        {
            final File parent = dir.getParentFile();
            if (!parent.isDirectory() && !parent.mkdirs())
            {
                throw new IllegalStateException("shared Aeron driver: cannot create " + parent);
            }
            createOwnerOnly(lockFile(dir));
            file = new RandomAccessFile(lockFile(dir), "rw");
            lock = lock(file.getChannel(), dir, deadlineNs);
            if (!alive(dir))
            {
                final Process process = start(settings, dir);
                awaitAlive(process, dir, deadlineNs);
            }
            return new Lease(dir, file, lock);
        }
        catch (final IOException ex)
        {
            release(file, lock);
            JVM_LOCK.unlock();
            throw new IllegalStateException("shared Aeron driver in " + dir + ": " + ex, ex);
        }
        catch (final RuntimeException | Error ex)
        {
            release(file, lock);
            JVM_LOCK.unlock();
            throw ex;
        }
    }

    /** Creates {@code file} readable and writable by its owner only (rw-------) if it does not exist. */
    private static void createOwnerOnly(final File file) throws IOException
    {
        if (file.exists() || !file.toPath().getFileSystem().supportedFileAttributeViews().contains("posix"))
        {
            return;
        }
        try
        {
            java.nio.file.Files.createFile(file.toPath(), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        }
        catch (final java.nio.file.FileAlreadyExistsException ex)
        {
            // another JVM created it first
        }
    }

    /** Serialises this JVM's acquisitions: a JVM holds a file lock once, whichever thread asked for it. */
    private static void enter(final long deadlineNs, final File dir)
    {
        try
        {
            if (!JVM_LOCK.tryLock(deadlineNs - System.nanoTime(), TimeUnit.NANOSECONDS))
            {
                throw new IllegalStateException("shared Aeron driver in " + dir + ": another thread of this JVM "
                    + "held its lock until the connect deadline");
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the shared Aeron driver in " + dir, ex);
        }
    }

    private static FileLock lock(final FileChannel channel, final File dir, final long deadlineNs)
        throws IOException
    {
        while (true)
        {
            final FileLock lock = channel.tryLock();
            if (lock != null)
            {
                return lock;
            }
            if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException("shared Aeron driver in " + dir + ": " + lockFile(dir)
                    + " stayed locked by another process until the connect deadline");
            }
            sleep(dir);
        }
    }

    private static Process start(final CollectiveSettings settings, final File dir) throws IOException
    {
        final List<String> command = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute())
        {
            // Its own session: a signal to the starting JVM's process group (Ctrl-C, a scheduler stopping one
            // executor) does not take down the driver the host's other replicas use.
            command.add("/usr/bin/setsid");
        }
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx128m");
        command.add("-XX:+UseSerialGC");
        command.add("--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
        command.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
        command.add("-cp");
        command.add(classPath());
        command.add(SharedDriverMain.class.getName());
        command.add(dir.getPath());
        command.add(Long.toString(TimeUnit.NANOSECONDS.toMillis(settings.sharedDriverIdleExitNs())));
        command.add(Integer.toString(settings.termLength()));
        command.add(Integer.toString(settings.mtuLength()));
        command.add(Integer.toString(settings.socketReceiveBufferLength()));
        command.add(Integer.toString(settings.receiveWindowLength()));
        command.add(Long.toString(Math.max(settings.operationDeadlineNs() / 2, 200_000_000L)));
        final File log = new File(dir.getParentFile(), dir.getName() + ".log");
        rotateLog(log, LOG_ROTATE_BYTES);
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null").exists()
                ? new File("/dev/null") : log));
        LOG.info("starting the host's shared Aeron driver in {} (log {})", dir, log);
        return builder.start();
    }

    /**
     * Keeps the driver's log (in /dev/shm by default, i.e. memory) from growing with every start: a log larger than
     * {@code maxBytes} becomes {@code <log>.1}, replacing the one before, and the new driver starts a fresh log. A
     * driver still running from before keeps writing to its open file, which is then {@code <log>.1}.
     */
    static void rotateLog(final File log, final long maxBytes)
    {
        if (log.length() <= maxBytes)
        {
            return;
        }
        final File previous = new File(log.getParentFile(), log.getName() + ".1");
        try
        {
            java.nio.file.Files.move(log.toPath(), previous.toPath(),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final IOException ex)
        {
            LOG.warn("shared Aeron driver: cannot rotate its log {} ({} bytes): {}", log, log.length(),
                ex.toString());
        }
    }

    /** The jars (or class directories) of Baton's common classes, Aeron's driver and client, and Agrona. */
    static String classPath()
    {
        final Set<String> entries = new LinkedHashSet<>();
        for (final Class<?> type : new Class<?>[] {SharedDriverMain.class, MediaDriver.class, Aeron.class,
            DirectBuffer.class})
        {
            try
            {
                entries.add(Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            }
            catch (final URISyntaxException | NullPointerException ex)
            {
                throw new IllegalStateException("shared Aeron driver: cannot locate the jar of " + type.getName(), ex);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void awaitAlive(final Process process, final File dir, final long deadlineNs)
    {
        while (!alive(dir))
        {
            if (!process.isAlive())
            {
                throw new IllegalStateException("shared Aeron driver in " + dir + " exited with status "
                    + process.exitValue() + " before it was up; see " + dir.getPath() + ".log");
            }
            if (System.nanoTime() > deadlineNs)
            {
                process.destroy();
                throw new IllegalStateException("shared Aeron driver in " + dir + " was not up by the connect "
                    + "deadline; see " + dir.getPath() + ".log");
            }
            sleep(dir);
        }
    }

    /**
     * A driver is alive in the directory: its CnC heartbeat is recent and the process it names still runs (a driver
     * killed a moment ago still has a fresh heartbeat).
     */
    static boolean alive(final File dir)
    {
        if (!CommonContext.isDriverActive(dir, DRIVER_ALIVE_MS, (msg) -> { }))
        {
            return false;
        }
        MappedByteBuffer cnc = null;
        try
        {
            cnc = IoUtil.mapExistingFile(new File(dir, CncFileDescriptor.CNC_FILE), "cnc");
            final long pid = CncFileDescriptor.pid(CncFileDescriptor.createMetaDataBuffer(cnc));
            return pid <= 0 || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        catch (final RuntimeException ex)
        {
            return false; // removed or replaced under us: not a driver to use
        }
        finally
        {
            if (cnc != null)
            {
                IoUtil.unmap(cnc);
            }
        }
    }

    private static void sleep(final File dir)
    {
        try
        {
            Thread.sleep(POLL_MS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the shared Aeron driver in " + dir, ex);
        }
    }

    private static void release(final RandomAccessFile file, final FileLock lock)
    {
        try
        {
            if (lock != null)
            {
                lock.release();
            }
            if (file != null)
            {
                file.close();
            }
        }
        catch (final IOException ex)
        {
            LOG.warn("releasing the shared Aeron driver's lock: {}", ex.toString());
        }
    }

    /** The lock on a live shared driver's directory: close it once this JVM's client has registered. */
    static final class Lease implements AutoCloseable
    {
        private final File directory;
        private RandomAccessFile file;
        private FileLock lock;

        private Lease(final File directory, final RandomAccessFile file, final FileLock lock)
        {
            this.directory = directory;
            this.file = file;
            this.lock = lock;
        }

        File directory()
        {
            return directory;
        }

        @Override
        public void close()
        {
            if (file != null)
            {
                release(file, lock);
                file = null;
                lock = null;
                JVM_LOCK.unlock();
            }
        }
    }
}
