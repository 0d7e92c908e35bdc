package io.baton.common.checkpoint;

import io.baton.common.store.LocalWrites;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The checkpoints of one training run in one directory ({@code <run.dir>/checkpoints}) of any Hadoop file system
 * (file:// by default, hdfs://...).
 *
 * <p>Layout of the checkpoint directory:
 * <pre>
 * ckpt-000000001200/          published checkpoint of step 1200
 *   part-params               one file per part, in write order
 *   part-updater
 *   MANIFEST                  metadata, part sizes and CRC32C checksums, its own CRC32C
 * _tmp-ckpt-000000001300-9f2c/  being written (or left by a crashed writer; removed by the next writer)
 * </pre>
 *
 * <p>Writing: parts go to a fresh staging directory, each hsync'ed with its size and CRC32C recorded; then the
 * manifest is written and hsync'ed; then the staging directory is renamed to {@code ckpt-<step>} (one atomic rename
 * on HDFS and POSIX; on file:// the directories are fsync'ed too). A {@code ckpt-*} directory therefore always holds
 * a complete manifest: its presence means published. Only after the publish does retention delete older
 * checkpoints, so the last good checkpoint survives any failure of the write.
 *
 * <p>On a store whose rename is not atomic (S3A and other object stores copy a directory object by object), a
 * checkpoint is published manifest-last instead: its parts are written straight into {@code ckpt-<step>}, each
 * complete when its upload completes, and the manifest is written after all of them. Such a store shows an object
 * whole or not at all, so the manifest's presence still means every part it names is there; a {@code ckpt-*}
 * directory without a manifest is a write in progress or one a crashed writer left, never listed, and removed by the
 * next writer. Replacing a checkpoint of the same step deletes the old one's manifest first (it stops being
 * published), and deleting one (retention) does too, so no half-deleted checkpoint looks published.
 *
 * <p>The write path is {@link CheckpointPublisher}'s; this class opens the directory, reads it, applies retention
 * and removes what crashed writers left.
 *
 * <p>Threading: one writer per checkpoint directory (the driver); {@link #write} is not re-entrant. Reading methods
 * may be called from any thread, also while a write is in progress. Opened for writing, the store removes staging
 * directories left by crashed writers; opened read-only it changes nothing.
 */
public final class CheckpointStore implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    private final FileSystem fs;
    private final boolean ownsFileSystem;
    private final Path runDir;
    private final RetentionPolicy retention;
    private final boolean readOnly;
    private final CheckpointPublisher publisher;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile PublishListener publishListener;

    /** Told of every checkpoint this store published (for metrics); runs on the writing thread, must not throw. */
    @FunctionalInterface
    public interface PublishListener
    {
        /**
         * @param step       the checkpoint's step.
         * @param bytes      bytes of its parts.
         * @param durationNs time from the start of the write to the publish (retention not included).
         */
        void onPublished(long step, long bytes, long durationNs);
    }

    private CheckpointStore(
        final FileSystem fs,
        final boolean ownsFileSystem,
        final Path runDir,
        final RetentionPolicy retention,
        final boolean readOnly)
    {
        this.fs = fs;
        this.ownsFileSystem = ownsFileSystem;
        this.runDir = fs.makeQualified(runDir);
        this.retention = retention;
        this.readOnly = readOnly;
        this.publisher = new CheckpointPublisher(fs, this.runDir);
    }

    /**
     * Opens a checkpoint directory for writing, creating it if needed and removing leftovers of crashed writers.
     *
     * @param location  a URI ({@code hdfs://nn:8020/runs/job}, {@code file:///data/job}) or a local path.
     * @param conf      Hadoop configuration for the file system.
     * @param retention what to keep after each publish.
     */
    public static CheckpointStore open(final String location, final Configuration conf, final RetentionPolicy retention)
        throws IOException
    {
        final FileSystem fs = fileSystemFor(location, conf);
        try
        {
            return open(fs, true, new Path(location), retention, false);
        }
        catch (final IOException | RuntimeException ex)
        {
            closeQuietly(fs, ex);
            throw ex;
        }
    }

    /** Opens a checkpoint directory for reading only (no cleanup, no writes); it need not exist. */
    public static CheckpointStore openReadOnly(final String location, final Configuration conf) throws IOException
    {
        final FileSystem fs = fileSystemFor(location, conf);
        return new CheckpointStore(fs, true, new Path(location), RetentionPolicy.keepLast(1), true);
    }

    /**
     * Opens a checkpoint directory for writing on a file system the caller owns (and closes after the store); used with
     * wrapped file systems in tests.
     */
    public static CheckpointStore open(final FileSystem fs, final Path runDir, final RetentionPolicy retention)
        throws IOException
    {
        return open(fs, false, runDir, retention, false);
    }

    private static CheckpointStore open(
        final FileSystem fs,
        final boolean owns,
        final Path runDir,
        final RetentionPolicy retention,
        final boolean readOnly) throws IOException
    {
        final CheckpointStore store = new CheckpointStore(fs, owns, runDir, retention, readOnly);
        if (!LocalWrites.mkdirs(fs, store.runDir))
        {
            throw new IOException("could not create checkpoint directory " + store.runDir);
        }
        store.removeLeftovers();
        return store;
    }

    /**
     * The file system for a location. file:// and plain paths get Hadoop's raw local file system: the store keeps
     * its own CRC32C checksums, and the raw streams support hsync (the checksummed local file system's do not).
     */
    static FileSystem fileSystemFor(final String location, final Configuration conf) throws IOException
    {
        final URI uri = new Path(location).toUri();
        if (uri.getScheme() == null || "file".equals(uri.getScheme()))
        {
            final RawLocalFileSystem raw = new RawLocalFileSystem();
            raw.initialize(URI.create("file:///"), conf);
            return raw;
        }
        return FileSystem.newInstance(uri, conf);
    }

    /** Sets who is told of every checkpoint published from now on (null: nobody). */
    public void publishListener(final PublishListener listener)
    {
        publishListener = listener;
    }

    /** Fully qualified checkpoint directory. */
    public Path dir()
    {
        return runDir;
    }

    public RetentionPolicy retention()
    {
        return retention;
    }

    /**
     * Writes and publishes one checkpoint, then applies retention. A checkpoint of the same step that is already
     * published is replaced (moved aside, then deleted once the new one is published).
     *
     * @return the published checkpoint.
     * @throws IOException if anything fails before the publish; the staging directory is removed and all
     *                     previously published checkpoints are untouched.
     */
    public Checkpoint write(final CheckpointMetadata metadata, final List<CheckpointPart> parts) throws IOException
    {
        return write(metadata, parts, WriteCancellation.none());
    }

    /**
     * {@link #write(CheckpointMetadata, List)} that another thread can stop through {@code cancellation}, without
     * interrupting this one: the write stops before the next part or 1 MB slice, or before the publish, removes its
     * staging directory and throws {@link CheckpointCancelledException}.
     */
    public Checkpoint write(final CheckpointMetadata metadata, final List<CheckpointPart> parts,
        final WriteCancellation cancellation) throws IOException
    {
        ensureWritable();
        final Set<String> names = new HashSet<>();
        for (final CheckpointPart part : parts)
        {
            if (!names.add(part.name()))
            {
                throw new IllegalArgumentException("duplicate part name '" + part.name() + "'");
            }
        }
        final long step = metadata.step();
        final long startNs = System.nanoTime();
        final Manifest manifest = publisher.write(metadata, parts, cancellation);
        final Path target = publisher.published(step);
        final long bytes = manifest.parts().stream().mapToLong(PartInfo::sizeBytes).sum();
        final long durationNs = System.nanoTime() - startNs;
        LOG.info("published checkpoint {}{} ({} parts, {} bytes) in {} ms", target,
            publisher.manifestLast() ? " manifest-last" : "", manifest.parts().size(), bytes, durationNs / 1_000_000);
        final PublishListener listener = publishListener;
        if (listener != null)
        {
            listener.onPublished(step, bytes, durationNs);
        }
        applyRetention(step);
        return Checkpoint.published(fs, target, manifest);
    }

    /** Steps of the published checkpoints (directories holding a manifest), ascending. */
    public List<Long> list() throws IOException
    {
        final List<Long> steps = new ArrayList<>();
        for (final long step : candidateSteps())
        {
            if (fs.exists(new Path(publisher.published(step), CheckpointNames.MANIFEST)))
            {
                steps.add(step);
            }
        }
        return steps;
    }

    /**
     * Opens the published checkpoint of {@code step}, reading and checking its manifest (parts are verified when
     * read).
     *
     * @throws FileNotFoundException      if there is no checkpoint of that step.
     * @throws CorruptCheckpointException if its manifest is missing or damaged.
     */
    public Checkpoint open(final long step) throws IOException
    {
        final Path dir = publisher.published(step);
        if (!fs.exists(dir))
        {
            throw new FileNotFoundException("no checkpoint of step " + step + " in " + runDir);
        }
        return Checkpoint.load(fs, dir);
    }

    /**
     * The newest checkpoint whose manifest and every part verify (sizes and CRC32C, reading every byte). Newer ones
     * that fail are skipped, each reported in the result and in an error log line naming the checkpoint, the part
     * and what did not match.
     */
    public LatestValid latestValid() throws IOException
    {
        final List<Long> steps = candidateSteps();
        final List<LatestValid.Rejected> rejected = new ArrayList<>();
        for (int i = steps.size() - 1; i >= 0; i--)
        {
            final Path dir = publisher.published(steps.get(i));
            try
            {
                final Checkpoint checkpoint = Checkpoint.load(fs, dir);
                checkpoint.verify();
                if (!rejected.isEmpty())
                {
                    LOG.warn("falling back to checkpoint {} (step {}); skipped {} newer corrupt checkpoint(s): {}",
                        dir, checkpoint.step(), rejected.size(),
                        rejected.stream().map(r -> r.path().getName()).toList());
                }
                return new LatestValid(checkpoint, rejected);
            }
            catch (final CorruptCheckpointException ex)
            {
                LOG.error("checkpoint {} is corrupt and will not be used: {}", dir, ex.getMessage());
                rejected.add(new LatestValid.Rejected(steps.get(i), dir, ex.getMessage()));
            }
        }
        if (!rejected.isEmpty())
        {
            LOG.error("no valid checkpoint in {}: all {} checkpoint(s) are corrupt", runDir, rejected.size());
        }
        return new LatestValid(null, rejected);
    }

    /** Closes the file system if the store opened it. Idempotent. */
    @Override
    public void close() throws IOException
    {
        if (closed.compareAndSet(false, true) && ownsFileSystem)
        {
            fs.close();
        }
    }

    private void applyRetention(final long justPublished) throws IOException
    {
        final List<Long> delete = retention.stepsToDelete(list(), justPublished);
        for (final long step : delete)
        {
            final Path dir = publisher.published(step);
            if (step > justPublished)
            {
                LOG.warn("deleting checkpoint {}: newer than the just-published step {}, left by a run that was "
                    + "resumed from an earlier step", dir, justPublished);
            }
            publisher.deleteQuietly(dir);
        }
        if (!delete.isEmpty())
        {
            LOG.info("retention {} after publishing step {}: deleted steps {}", retention, justPublished, delete);
        }
    }

    /** Removes staging directories of crashed writers and restores or removes moved-aside checkpoints. */
    private void removeLeftovers() throws IOException
    {
        final List<String> removed = new ArrayList<>();
        for (final FileStatus status : fs.listStatus(runDir))
        {
            final String name = status.getPath().getName();
            final long step = CheckpointNames.hiddenStep(name);
            if (step < 0)
            {
                if (publisher.manifestLast() && CheckpointNames.publishedStep(name) >= 0 && status.isDirectory()
                    && !fs.exists(new Path(status.getPath(), CheckpointNames.MANIFEST)))
                {
                    // Parts without a manifest: a write that did not finish (manifest-last publication).
                    fs.delete(status.getPath(), true);
                    removed.add(name);
                }
                continue;
            }
            final Path target = publisher.published(step);
            if (name.startsWith(CheckpointNames.ASIDE_PREFIX) && !fs.exists(target))
            {
                if (fs.rename(status.getPath(), target))
                {
                    LOG.warn("restored checkpoint {} that a crashed writer had moved aside to {}", target, name);
                    continue;
                }
            }
            fs.delete(status.getPath(), true);
            removed.add(name);
        }
        if (!removed.isEmpty())
        {
            LOG.warn("removed {} leftover director(ies) of crashed checkpoint writers in {}: {}", removed.size(),
                runDir, removed);
        }
    }

    private List<Long> candidateSteps() throws IOException
    {
        final List<Long> steps = new ArrayList<>();
        final FileStatus[] statuses;
        try
        {
            statuses = fs.listStatus(runDir);
        }
        catch (final FileNotFoundException ex)
        {
            return steps;
        }
        for (final FileStatus status : statuses)
        {
            final long step = CheckpointNames.publishedStep(status.getPath().getName());
            if (step >= 0 && status.isDirectory())
            {
                steps.add(step);
            }
        }
        steps.sort(Long::compare);
        return steps;
    }

    private void ensureWritable()
    {
        if (closed.get())
        {
            throw new IllegalStateException("checkpoint store of " + runDir + " is closed");
        }
        if (readOnly)
        {
            throw new IllegalStateException("checkpoint store of " + runDir + " was opened read-only");
        }
    }

    private static void closeQuietly(final FileSystem fs, final Throwable cause)
    {
        try
        {
            fs.close();
        }
        catch (final IOException ex)
        {
            cause.addSuppressed(ex);
        }
    }

    @Override
    public String toString()
    {
        return "CheckpointStore[" + runDir + ", " + retention + (readOnly ? ", read-only" : "") + "]";
    }
}
