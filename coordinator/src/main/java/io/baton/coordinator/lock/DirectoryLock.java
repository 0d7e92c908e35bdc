package io.baton.coordinator.lock;

import io.baton.common.store.OutputStreams;
import io.baton.common.store.StoreSemantics;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An exclusive lease on a directory that one Baton job writes: a training run's directory, or retrain's models
 * directory. Two jobs writing into one run directory delete each other's checkpoints as "left by an earlier run" and
 * overwrite each other's metrics, configuration and model; two retrains in one models directory can promote in the
 * wrong order. So a job takes the lock before it changes anything, and a second job is refused with
 * {@link DirectoryInUseException} naming the holder.
 *
 * <p>The lock is a file, {@value #FILE_NAME}, created exclusively: O_EXCL on a local disk, the NameNode's create
 * without overwrite on HDFS, and on S3A a conditional PUT ({@code If-None-Match}, {@link ConditionalWrites}) once a
 * probe showed the store honours it. A store with none of these (an S3-compatible server that ignores conditional
 * writes, other object stores) cannot make two jobs starting at the same moment see each other: the lock is refused
 * there ({@link IllegalArgumentException}, the configuration's to fix) unless the user opted in to a lock without
 * that guarantee. Its holder refreshes the file's modification time every quarter of {@code staleAfter} (on an
 * object store, whose files have no settable times, by writing it again: on S3 only if it is still the version this
 * holder wrote). A lock is taken over, with a warning,
 * when its process is gone (holder on this host) or when it was not refreshed for {@code staleAfter} (a driver
 * killed on another host; host clocks are assumed to agree within a small part of {@code staleAfter}).
 *
 * <p>Threading: acquire and close from one thread; the refresh runs on its own daemon thread.
 */
public final class DirectoryLock implements AutoCloseable
{
    /** The lock file's name inside the locked directory. */
    public static final String FILE_NAME = "baton.lock";
    /** The lock names its holder (host, pid, job): readable and writable by the job's user only. */
    private static final java.util.Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryLock.class);

    /** How the lock file is created, taken over and refreshed on a store. */
    enum Mode
    {
        /** Exclusive create, rename to take over, modification time refreshed (local disks, HDFS). */
        EXCLUSIVE,
        /** S3 conditional writes: create if absent, take over and refresh only the version read (etag). */
        CONDITIONAL,
        /** No exclusive create; the user accepted that two jobs starting at once could both take the lock. */
        UNSAFE
    }

    private final FileSystem fs;
    private final Path file;
    private final LockHolder holder;
    private final Mode mode;
    private final ScheduledExecutorService refresher;
    /** The version of the lock file this holder wrote last (CONDITIONAL). */
    private volatile String etag;

    private DirectoryLock(final FileSystem fs, final Path file, final LockHolder holder, final Duration staleAfter,
        final Mode mode) throws IOException
    {
        this.fs = fs;
        this.file = file;
        this.holder = holder;
        this.mode = mode;
        this.etag = mode == Mode.CONDITIONAL ? ConditionalWrites.etag(fs, file) : null;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread thread = new Thread(r, "baton-lock-refresh");
            thread.setDaemon(true);
            return thread;
        });
        final long periodMs = Math.max(1, staleAfter.toMillis() / 4);
        refresher.scheduleWithFixedDelay(this::refresh, periodMs, periodMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Takes the lock of {@code dir} (created if missing) for {@code job}, taking over a stale one.
     *
     * @throws DirectoryInUseException when another live job holds it.
     */
    public static DirectoryLock acquire(final FileSystem fs, final Path dir, final String job,
        final Duration staleAfter)
    {
        return acquire(fs, dir, job, staleAfter, false);
    }

    /**
     * Takes the lock of {@code dir} (created if missing) for {@code job}, taking over a stale one.
     *
     * @param allowUnsafe take the lock also where the store cannot create it exclusively (run.lock-unsafe-store).
     * @throws DirectoryInUseException  when another live job holds it.
     * @throws IllegalArgumentException when the store cannot create the lock exclusively and the user did not accept
     *                                  that.
     */
    public static DirectoryLock acquire(final FileSystem fs, final Path dir, final String job,
        final Duration staleAfter, final boolean allowUnsafe)
    {
        final Path file = new Path(dir, FILE_NAME);
        final LockHolder self = LockHolder.current(job);
        try
        {
            final Mode mode = mode(fs, dir, allowUnsafe);
            if (mode == Mode.EXCLUSIVE)
            {
                fs.mkdirs(dir);
            }
            for (int attempt = 0; attempt < 3; attempt++)
            {
                if (tryCreate(fs, file, self, mode))
                {
                    return holding(fs, file, self, staleAfter, mode);
                }
                final String otherEtag = mode == Mode.CONDITIONAL ? ConditionalWrites.etag(fs, file) : null;
                final LockHolder other = read(fs, file);
                final long modifiedMs = modificationMs(fs, file);
                if (other == null || modifiedMs < 0)
                {
                    continue; // released between our create and our read: try again
                }
                final Duration sinceRefresh = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - modifiedMs));
                final String stale = other.staleReason(sinceRefresh, staleAfter);
                if (stale == null)
                {
                    throw inUse(dir, other, sinceRefresh, staleAfter, job);
                }
                LOG.warn("{}: taking over the lock of {}: {}", dir, other.describe(), stale);
                if (mode == Mode.CONDITIONAL)
                {
                    // Only the version read is replaced: of two jobs taking over at once, one succeeds.
                    if (otherEtag != null && ConditionalWrites.replace(fs, file, otherEtag,
                        self.render().getBytes(StandardCharsets.UTF_8)))
                    {
                        return holding(fs, file, self, staleAfter, mode);
                    }
                }
                else if (mode == Mode.UNSAFE)
                {
                    fs.delete(file, false);
                }
                else
                {
                    takeOver(fs, file, other);
                }
            }
            throw new DirectoryInUseException(dir + " is in use: its lock " + file + " kept changing hands while "
                + job + " tried to take it; is another job starting on it?");
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot lock " + dir + " (" + file + "): " + ex.getMessage(), ex);
        }
    }

    /**
     * How this store can hold the lock: exclusively (local disks, HDFS), by S3 conditional writes if the store
     * honours them, or, only if the user allowed it, without exclusion. Refused otherwise, before anything is written
     * but the conditional-write probe.
     */
    private static Mode mode(final FileSystem fs, final Path dir, final boolean allowUnsafe) throws IOException
    {
        if (StoreSemantics.exclusiveCreate(fs))
        {
            return Mode.EXCLUSIVE;
        }
        fs.exists(dir); // a missing bucket or refused credentials fail here, before the probe writes anything
        if (StoreSemantics.isS3(fs) && ConditionalWrites.honoured(fs, dir))
        {
            return Mode.CONDITIONAL;
        }
        final String scheme = fs.getUri().getScheme();
        if (!allowUnsafe)
        {
            throw new IllegalArgumentException(dir + ": " + scheme + ":// cannot create the run lock " + FILE_NAME
                + " exclusively (" + (StoreSemantics.isS3(fs) ? "this S3 store does not honour conditional writes"
                : "this store has no exclusive create") + "), so two jobs started on it at the same moment could "
                + "both take it and overwrite each other's files. Use a directory on HDFS or on Amazon S3 (which "
                + "honours conditional writes), or set run.lock-unsafe-store = true if you make sure yourself that "
                + "only one job uses this directory at a time.");
        }
        LOG.warn("{}: {}:// cannot create the lock exclusively; taking it anyway (run.lock-unsafe-store = true): two "
            + "jobs starting at the same moment could both take it", dir, scheme);
        return Mode.UNSAFE;
    }

    /** Starts refreshing the lock just created; removes it again if that fails. */
    private static DirectoryLock holding(final FileSystem fs, final Path file, final LockHolder self,
        final Duration staleAfter, final Mode mode) throws IOException
    {
        try
        {
            return new DirectoryLock(fs, file, self, staleAfter, mode);
        }
        catch (final RuntimeException | Error ex)
        {
            fs.delete(file, false);
            throw ex;
        }
    }

    /**
     * Who holds the lock of {@code dir} according to its file, for messages, without taking or judging it; null when
     * there is no lock file.
     */
    public static String holder(final FileSystem fs, final Path dir)
    {
        try
        {
            final LockHolder holder = read(fs, new Path(dir, FILE_NAME));
            return holder == null ? null : holder.describe();
        }
        catch (final IOException ex)
        {
            return "? (" + ex.getMessage() + ")";
        }
    }

    /** The lock file. */
    public Path file()
    {
        return file;
    }

    /** Stops refreshing and removes the lock file, unless another job took it over meanwhile. */
    @Override
    public void close()
    {
        refresher.shutdownNow();
        try
        {
            refresher.awaitTermination(10, TimeUnit.SECONDS);
            final LockHolder now = read(fs, file);
            if (now != null && now.token().equals(holder.token()))
            {
                fs.delete(file, false);
            }
            else
            {
                LOG.warn("{}: not removing the lock, it is no longer ours (now {})", file,
                    now == null ? "absent" : now.describe());
            }
        }
        catch (final IOException ex)
        {
            LOG.warn("{}: could not remove the lock: {}", file, ex.toString());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private void refresh()
    {
        try
        {
            final byte[] bytes = holder.render().getBytes(StandardCharsets.UTF_8);
            if (mode == Mode.CONDITIONAL)
            {
                // S3 objects have no settable times: write the lock again, only if it is still ours.
                if (etag == null || !ConditionalWrites.replace(fs, file, etag, bytes))
                {
                    LOG.error("{}: the lock was taken over or removed while {} held it; another job may now write "
                        + "here", file, holder.describe());
                    return;
                }
                etag = ConditionalWrites.etag(fs, file);
                return;
            }
            if (mode == Mode.UNSAFE)
            {
                final LockHolder now = read(fs, file);
                if (now == null || !now.token().equals(holder.token()))
                {
                    LOG.error("{}: the lock was taken over or removed while {} held it; another job may now write "
                        + "here", file, holder.describe());
                    return;
                }
                try (FSDataOutputStream out = fs.create(file, true))
                {
                    out.write(bytes);
                }
                return;
            }
            fs.setTimes(file, System.currentTimeMillis(), -1);
        }
        catch (final FileNotFoundException ex)
        {
            LOG.error("{}: the lock file was removed while {} held it; another job may now write here", file,
                holder.describe());
        }
        catch (final IOException | RuntimeException ex)
        {
            LOG.warn("{}: could not refresh the lock: {}", file, ex.toString());
        }
    }

    private static boolean tryCreate(final FileSystem fs, final Path file, final LockHolder self, final Mode mode)
        throws IOException
    {
        final byte[] bytes = self.render().getBytes(StandardCharsets.UTF_8);
        if (mode == Mode.CONDITIONAL)
        {
            return ConditionalWrites.create(fs, file, bytes);
        }
        final RawLocalFileSystem local = fs instanceof LocalFileSystem checksummed
            ? (RawLocalFileSystem)checksummed.getRaw() : fs instanceof RawLocalFileSystem raw ? raw : null;
        if (local != null)
        {
            // Hadoop's local create checks for the file and then opens it: not atomic. CREATE_NEW is O_EXCL.
            try
            {
                final java.nio.file.Path path = local.pathToFile(file).toPath();
                final boolean posix = path.getFileSystem().supportedFileAttributeViews().contains("posix");
                try (java.nio.channels.SeekableByteChannel out = posix
                    ? Files.newByteChannel(path, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(OWNER_ONLY))
                    : Files.newByteChannel(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
                {
                    out.write(java.nio.ByteBuffer.wrap(bytes));
                }
                return true;
            }
            catch (final java.nio.file.FileAlreadyExistsException ex)
            {
                return false;
            }
        }
        try
        {
            OutputStreams.writeAndClose(fs.create(file, new FsPermission((short)0600), false,
                fs.getConf().getInt("io.file.buffer.size", 4096), fs.getDefaultReplication(file),
                fs.getDefaultBlockSize(file), null), out ->
            {
                out.write(bytes);
                out.hsync();
            });
            return true;
        }
        catch (final FileAlreadyExistsException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            // HDFS reports a file another client is still creating as AlreadyBeingCreatedException, a RemoteException.
            if (fs.exists(file))
            {
                return false;
            }
            throw ex;
        }
    }

    /** The holder recorded in the file, or null when there is no file. */
    private static LockHolder read(final FileSystem fs, final Path file) throws IOException
    {
        try (FSDataInputStream in = fs.open(file))
        {
            return LockHolder.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        catch (final FileNotFoundException ex)
        {
            return null;
        }
    }

    private static long modificationMs(final FileSystem fs, final Path file) throws IOException
    {
        try
        {
            return fs.getFileStatus(file).getModificationTime();
        }
        catch (final FileNotFoundException ex)
        {
            return -1;
        }
    }

    /**
     * Moves the stale lock aside (a rename succeeds for one job only) and deletes it. If what was moved is not the
     * stale holder's file (another job took the lock over in between), it is put back.
     */
    private static void takeOver(final FileSystem fs, final Path file, final LockHolder stale) throws IOException
    {
        final Path aside = new Path(file.getParent(), "." + FILE_NAME + ".stale-" + UUID.randomUUID());
        if (!fs.rename(file, aside))
        {
            return;
        }
        final LockHolder moved = read(fs, aside);
        if (moved != null && !moved.token().equals(stale.token()) && !fs.exists(file) && fs.rename(aside, file))
        {
            return;
        }
        fs.delete(aside, false);
    }

    private static DirectoryInUseException inUse(final Path dir, final LockHolder other, final Duration sinceRefresh,
        final Duration staleAfter, final String job)
    {
        return new DirectoryInUseException(dir + " is in use by " + other.describe() + ", lock refreshed "
            + sinceRefresh.toSeconds() + " s ago; " + job + " would overwrite its files, so it did not start. Wait "
            + "for that job to end, or use another directory. If that job is dead, its lock is taken over once it "
            + "has not been refreshed for " + staleAfter.toSeconds() + " s (run.lock-stale-after), or delete "
            + new Path(dir, FILE_NAME) + " by hand.");
    }
}
