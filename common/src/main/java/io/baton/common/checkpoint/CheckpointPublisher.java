package io.baton.common.checkpoint;

import io.baton.common.store.LocalWrites;
import io.baton.common.store.OutputStreams;
import io.baton.common.store.StoreSemantics;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes one checkpoint's parts and manifest into a {@link CheckpointStore}'s directory and publishes it as
 * {@code ckpt-<step>}: from a staging directory by one rename where the store renames atomically (the directories
 * fsync'ed on file://), manifest-last into {@code ckpt-<step>} where it does not (object stores); and deletes
 * published checkpoints so that none ever looks published while half deleted. The layout and the guarantees are
 * {@link CheckpointStore}'s; this class is its write path. Logs under {@link CheckpointStore}'s name, as it did when
 * this was part of it.
 *
 * <p>Threading: the store's one writing thread.
 */
final class CheckpointPublisher
{
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final int WRITE_BUFFER_BYTES = 1 << 20;

    private final FileSystem fs;
    private final Path runDir;
    private final boolean localFileSystem;
    /** Publish by writing the manifest last into {@code ckpt-<step>} (no atomic rename on this store). */
    private final boolean manifestLast;
    private boolean warnedNoHsync;

    CheckpointPublisher(final FileSystem fs, final Path runDir)
    {
        this.fs = fs;
        this.runDir = runDir;
        this.localFileSystem = "file".equals(fs.getUri().getScheme());
        this.manifestLast = !StoreSemantics.atomicRename(fs);
    }

    /** True when checkpoints are published manifest-last (the store has no atomic rename). */
    boolean manifestLast()
    {
        return manifestLast;
    }

    /** The directory of the published checkpoint of {@code step} (where the store looks for it, too). */
    Path published(final long step)
    {
        return new Path(runDir, CheckpointNames.published(step));
    }

    /**
     * Writes and publishes the checkpoint, replacing a published one of the same step; returns its manifest. On any
     * failure before the publish the partial write is removed and the checkpoints published before are untouched.
     */
    Manifest write(final CheckpointMetadata metadata, final List<CheckpointPart> parts,
        final WriteCancellation cancellation) throws IOException
    {
        return manifestLast ? writeManifestLast(metadata, parts, cancellation)
            : writeAndRename(metadata, parts, cancellation);
    }

    private Manifest writeAndRename(final CheckpointMetadata metadata, final List<CheckpointPart> parts,
        final WriteCancellation cancellation) throws IOException
    {
        final long step = metadata.step();
        final String nonce = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        final Path staging = new Path(runDir, CheckpointNames.staging(step, nonce));
        final Manifest manifest;
        try
        {
            if (!LocalWrites.mkdirs(fs, staging))
            {
                throw new IOException("could not create staging directory " + staging);
            }
            manifest = new Manifest(metadata, writeParts(staging, parts, cancellation, step));
            throwIfCancelled(cancellation, step);
            writeManifest(new Path(staging, CheckpointNames.MANIFEST), manifest.encode());
            syncLocalDirectory(staging);
            if (!cancellation.tryStartPublish())
            {
                throw new CheckpointCancelledException("checkpoint step " + step + " was cancelled before its publish");
            }
        }
        catch (final IOException | RuntimeException | Error ex)
        {
            removeQuietly(staging, ex);
            throw ex;
        }
        rename(staging, published(step), step, nonce);
        return manifest;
    }

    /** Parts straight into {@code ckpt-<step>}, then the manifest: its presence is the publish. */
    private Manifest writeManifestLast(final CheckpointMetadata metadata, final List<CheckpointPart> parts,
        final WriteCancellation cancellation) throws IOException
    {
        final long step = metadata.step();
        final Path target = published(step);
        if (fs.exists(target))
        {
            LOG.warn("replacing existing checkpoint {} (its manifest is deleted first, so it is no longer published)",
                target);
            unpublishAndDelete(target);
        }
        try
        {
            if (!fs.mkdirs(target))
            {
                throw new IOException("could not create checkpoint directory " + target);
            }
            final Manifest manifest = new Manifest(metadata, writeParts(target, parts, cancellation, step));
            // The manifest is this store's publish: past this point a cancel waits for it.
            if (!cancellation.tryStartPublish())
            {
                throw new CheckpointCancelledException("checkpoint step " + step + " was cancelled before its publish");
            }
            writeManifest(new Path(target, CheckpointNames.MANIFEST), manifest.encode());
            return manifest;
        }
        catch (final IOException | RuntimeException | Error ex)
        {
            removeQuietly(target, ex);
            throw ex;
        }
    }

    private List<PartInfo> writeParts(final Path dir, final List<CheckpointPart> parts,
        final WriteCancellation cancellation, final long step) throws IOException
    {
        final List<PartInfo> infos = new ArrayList<>(parts.size());
        for (final CheckpointPart part : parts)
        {
            throwIfCancelled(cancellation, step);
            infos.add(writePart(new Path(dir, CheckpointNames.partFile(part.name())), part, cancellation, step));
        }
        return infos;
    }

    /**
     * Deletes a published checkpoint, its manifest first on a manifest-last store; a failure is logged (the next
     * publish's retention tries again).
     */
    void deleteQuietly(final Path dir)
    {
        try
        {
            if (manifestLast)
            {
                unpublishAndDelete(dir);
                return;
            }
            fs.delete(dir, true);
        }
        catch (final IOException ex)
        {
            LOG.warn("could not delete {} (will retry after the next publish): {}", dir, ex.toString());
        }
    }

    /** Deletes a checkpoint's manifest, then the rest: at no point does a partly deleted one look published. */
    private void unpublishAndDelete(final Path dir) throws IOException
    {
        fs.delete(new Path(dir, CheckpointNames.MANIFEST), false);
        fs.delete(dir, true);
    }

    private static void throwIfCancelled(final WriteCancellation cancellation, final long step)
        throws CheckpointCancelledException
    {
        if (cancellation.isCancelled())
        {
            throw new CheckpointCancelledException("checkpoint step " + step + " was cancelled");
        }
    }

    private PartInfo writePart(final Path file, final CheckpointPart part, final WriteCancellation cancellation,
        final long step) throws IOException
    {
        final PartInfo[] info = new PartInfo[1];
        OutputStreams.writeAndClose(LocalWrites.createNew(fs, file, WRITE_BUFFER_BYTES), out ->
        {
            final ChecksummingOutputStream counted = new ChecksummingOutputStream(out, cancellation,
                "part '" + part.name() + "' of checkpoint step " + step);
            part.writeTo(counted);
            counted.flush();
            hsync(out, file);
            info[0] = new PartInfo(part.name(), counted.sizeBytes(), counted.crc32c());
        });
        return info[0];
    }

    private void writeManifest(final Path file, final byte[] bytes) throws IOException
    {
        OutputStreams.writeAndClose(LocalWrites.createNew(fs, file, WRITE_BUFFER_BYTES), out ->
        {
            out.write(bytes);
            hsync(out, file);
        });
    }

    private void hsync(final FSDataOutputStream out, final Path file) throws IOException
    {
        if (!out.hasCapability(StreamCapabilities.HSYNC) && !warnedNoHsync)
        {
            warnedNoHsync = true;
            LOG.warn("the file system of {} does not support hsync: checkpoints are flushed but may not be durable",
                file);
        }
        out.hsync();
    }

    /** The publish by rename: an existing checkpoint of the step is moved aside, and deleted once this one is in. */
    private void rename(final Path staging, final Path target, final long step, final String nonce)
        throws IOException
    {
        Path aside = null;
        try
        {
            if (fs.exists(target))
            {
                aside = new Path(runDir, CheckpointNames.aside(step, nonce));
                if (!fs.rename(target, aside))
                {
                    throw new IOException("could not move the existing " + target + " aside to " + aside);
                }
                LOG.warn("replacing existing checkpoint {} (moved aside to {} until the new one is published)",
                    target, aside);
            }
            if (!fs.rename(staging, target))
            {
                throw new IOException("could not publish checkpoint: rename of " + staging + " to " + target
                    + " failed");
            }
            syncLocalDirectory(runDir);
        }
        catch (final IOException | RuntimeException | Error ex)
        {
            removeQuietly(staging, ex);
            if (aside != null && !fs.exists(target))
            {
                restoreQuietly(aside, target, ex);
            }
            throw ex;
        }
        if (aside != null)
        {
            deleteQuietly(aside);
        }
    }

    private void syncLocalDirectory(final Path dir) throws IOException
    {
        if (localFileSystem)
        {
            try (FileChannel channel = FileChannel.open(Paths.get(dir.toUri().getPath()), StandardOpenOption.READ))
            {
                channel.force(true);
            }
        }
    }

    private void removeQuietly(final Path dir, final Throwable cause)
    {
        try
        {
            fs.delete(dir, true);
        }
        catch (final IOException | RuntimeException ex)
        {
            cause.addSuppressed(ex);
        }
    }

    private void restoreQuietly(final Path aside, final Path target, final Throwable cause)
    {
        try
        {
            fs.rename(aside, target);
        }
        catch (final IOException | RuntimeException ex)
        {
            cause.addSuppressed(ex);
        }
    }
}
