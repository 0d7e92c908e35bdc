package io.baton.common.checkpoint;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A published checkpoint, opened for reading: its manifest (metadata, parts with sizes and checksums) has been read
 * and checked; the parts are verified when read to their end ({@link #openPart}) or all at once ({@link #verify}).
 *
 * <p>Threading: immutable; parts may be read from several threads at once, each through its own stream.
 */
public final class Checkpoint
{
    private static final int READ_BUFFER_BYTES = 1 << 20;

    private final FileSystem fs;
    private final Path dir;
    private final Manifest manifest;

    private Checkpoint(final FileSystem fs, final Path dir, final Manifest manifest)
    {
        this.fs = fs;
        this.dir = dir;
        this.manifest = manifest;
    }

    /** A checkpoint just published by this process, with the manifest it wrote. */
    static Checkpoint published(final FileSystem fs, final Path dir, final Manifest manifest)
    {
        return new Checkpoint(fs, dir, manifest);
    }

    /** Reads and checks the manifest of the published checkpoint directory {@code dir}. */
    static Checkpoint load(final FileSystem fs, final Path dir) throws IOException
    {
        final Path manifestPath = new Path(dir, CheckpointNames.MANIFEST);
        final byte[] bytes;
        try (FSDataInputStream in = fs.open(manifestPath))
        {
            bytes = in.readAllBytes();
        }
        catch (final FileNotFoundException ex)
        {
            throw new CorruptCheckpointException(dir + ": manifest is missing", ex);
        }
        final Manifest manifest = Manifest.decode(bytes, dir.toString());
        final long dirStep = CheckpointNames.publishedStep(dir.getName());
        if (dirStep != manifest.metadata().step())
        {
            throw new CorruptCheckpointException(dir + ": manifest records step " + manifest.metadata().step()
                + " but the directory is named for step " + dirStep);
        }
        return new Checkpoint(fs, dir, manifest);
    }

    public long step()
    {
        return manifest.metadata().step();
    }

    public CheckpointMetadata metadata()
    {
        return manifest.metadata();
    }

    /** The parts in the order they were written. */
    public List<PartInfo> parts()
    {
        return manifest.parts();
    }

    /** Fully qualified location of the checkpoint directory. */
    public Path path()
    {
        return dir;
    }

    public PartInfo part(final String name)
    {
        for (final PartInfo part : manifest.parts())
        {
            if (part.name().equals(name))
            {
                return part;
            }
        }
        throw new IllegalArgumentException(dir + " has no part '" + name + "'; parts: "
            + manifest.parts().stream().map(PartInfo::name).toList());
    }

    /**
     * Opens a part for streaming. Reading it to its end verifies size and checksum and throws
     * {@link CorruptCheckpointException} on a mismatch, so consume the whole stream before trusting what was read.
     */
    public InputStream openPart(final String name) throws IOException
    {
        final PartInfo part = part(name);
        return new VerifyingInputStream(fs.open(new Path(dir, CheckpointNames.partFile(name)), READ_BUFFER_BYTES),
            part, dir.toString());
    }

    /** Reads a whole (small) part into memory, verified. */
    public byte[] readPart(final String name) throws IOException
    {
        final PartInfo part = part(name);
        if (part.sizeBytes() > Integer.MAX_VALUE - 8)
        {
            throw new IllegalArgumentException("part '" + name + "' has " + part.sizeBytes()
                + " bytes, too large for one array; stream it with openPart");
        }
        try (InputStream in = openPart(name))
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream((int) part.sizeBytes());
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    /**
     * Checks every part: present, of the recorded size (cheap, from the file system's metadata) and with the
     * recorded CRC32C (reads every byte).
     *
     * @throws CorruptCheckpointException naming the part and what did not match.
     */
    public void verify() throws IOException
    {
        for (final PartInfo part : manifest.parts())
        {
            final Path file = new Path(dir, CheckpointNames.partFile(part.name()));
            final FileStatus status;
            try
            {
                status = fs.getFileStatus(file);
            }
            catch (final FileNotFoundException ex)
            {
                throw new CorruptCheckpointException(dir + ": part '" + part.name() + "' is missing", ex);
            }
            if (status.getLen() != part.sizeBytes())
            {
                throw new CorruptCheckpointException(dir + ": part '" + part.name() + "' is "
                    + (status.getLen() < part.sizeBytes() ? "truncated" : "too long") + ": " + status.getLen()
                    + " bytes, manifest records " + part.sizeBytes());
            }
        }
        final byte[] buffer = new byte[READ_BUFFER_BYTES];
        for (final PartInfo part : manifest.parts())
        {
            try (InputStream in = openPart(part.name()))
            {
                while (in.read(buffer) >= 0)
                {
                    // the stream checks size and checksum at its end
                }
            }
        }
    }

    @Override
    public String toString()
    {
        return "Checkpoint[step=" + step() + ", " + dir + "]";
    }
}
