package io.baton.common.store;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.Syncable;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;

/**
 * Creates files and directories on any Hadoop file system, without Hadoop's process per file on the local one.
 * Hadoop's local file system ({@code file:}, {@link LocalFileSystem} and {@link RawLocalFileSystem}) sets the
 * permission of every file, checksum file and directory it creates by starting a {@code chmod} process when its native
 * library is absent, as it is in Baton's distribution: 15-40 ms each on a JVM of a few GB on a 2-core VM, and a
 * {@code BatonTrainingMaster} fit created ~58 such files (20 shards and their checksums when staging alone). Here a
 * local path is written with {@code java.nio} instead: the same bytes, the permission the process's umask gives (0644
 * under the usual 022, as Hadoop's default), no {@code .crc} file (Hadoop's local reader verifies one only where it
 * exists; a stale one of an overwritten file is removed), {@code hsync} forcing the file to the device as Hadoop's raw
 * local stream does. Any other file system creates as its own {@code create} and {@code mkdirs} do.
 *
 * <p>Stateless and thread-safe.
 */
public final class LocalWrites
{
    private LocalWrites()
    {
    }

    /** Creates (or replaces) {@code file}, making its missing parent directories, as {@code fs.create(file, true)}. */
    public static FSDataOutputStream create(final FileSystem fs, final Path file) throws IOException
    {
        final java.nio.file.Path local = local(fs, file);
        if (local == null)
        {
            return fs.create(file, true);
        }
        return open(local, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** As {@link #createNew(FileSystem, Path, int)} with {@code fs.create(file, false)}'s buffer. */
    public static FSDataOutputStream createNew(final FileSystem fs, final Path file) throws IOException
    {
        return local(fs, file) == null ? fs.create(file, false) : createNew(fs, file, 0);
    }

    /**
     * Creates {@code file}, which must not exist, making its missing parent directories, as
     * {@code fs.create(file, false, bufferBytes)}.
     *
     * @throws FileAlreadyExistsException when it exists.
     */
    public static FSDataOutputStream createNew(final FileSystem fs, final Path file, final int bufferBytes)
        throws IOException
    {
        final java.nio.file.Path local = local(fs, file);
        if (local == null)
        {
            return fs.create(file, false, bufferBytes);
        }
        try
        {
            return open(local, StandardOpenOption.CREATE_NEW);
        }
        catch (final java.nio.file.FileAlreadyExistsException ex)
        {
            throw new FileAlreadyExistsException("File already exists: " + file);
        }
    }

    private static FSDataOutputStream open(final java.nio.file.Path local, final OpenOption... options)
        throws IOException
    {
        final java.nio.file.Path parent = local.getParent();
        if (parent != null)
        {
            Files.createDirectories(parent);
            Files.deleteIfExists(parent.resolve("." + local.getFileName() + ".crc"));
        }
        final OpenOption[] all = java.util.Arrays.copyOf(options, options.length + 1);
        all[options.length] = StandardOpenOption.WRITE;
        return new FSDataOutputStream(new SyncableFile(FileChannel.open(local, all)), null);
    }

    /** Makes {@code dir} and its missing parents, as {@code fs.mkdirs(dir)}; true when it is a directory afterwards. */
    public static boolean mkdirs(final FileSystem fs, final Path dir) throws IOException
    {
        final java.nio.file.Path local = local(fs, dir);
        if (local == null)
        {
            return fs.mkdirs(dir);
        }
        Files.createDirectories(local);
        return true;
    }

    /** Whether {@link #create} writes {@code path} of {@code fs} itself, as a local file. */
    public static boolean isLocal(final FileSystem fs, final Path path)
    {
        return local(fs, path) != null;
    }

    /**
     * The local file {@code path} names on {@code fs}, or null when {@code fs} is not Hadoop's own local file system
     * (a subclass, which may change what create does, is left to its create).
     */
    static java.nio.file.Path local(final FileSystem fs, final Path path)
    {
        if (fs.getClass() != LocalFileSystem.class && fs.getClass() != RawLocalFileSystem.class)
        {
            return null;
        }
        final Path qualified = fs.makeQualified(path);
        if (!"file".equals(qualified.toUri().getScheme()))
        {
            return null;
        }
        return java.nio.file.Path.of(qualified.toUri());
    }

    /** A local file's buffered stream: hflush writes the buffer out, hsync also forces the file to the device. */
    private static final class SyncableFile extends OutputStream implements Syncable
    {
        private static final int BUFFER_BYTES = 64 * 1024;

        private final FileChannel channel;
        private final BufferedOutputStream out;

        SyncableFile(final FileChannel channel)
        {
            this.channel = channel;
            this.out = new BufferedOutputStream(Channels.newOutputStream(channel), BUFFER_BYTES);
        }

        @Override
        public void write(final int b) throws IOException
        {
            out.write(b);
        }

        @Override
        public void write(final byte[] bytes, final int offset, final int length) throws IOException
        {
            out.write(bytes, offset, length);
        }

        @Override
        public void flush() throws IOException
        {
            out.flush();
        }

        @Override
        public void hflush() throws IOException
        {
            out.flush();
        }

        @Override
        public void hsync() throws IOException
        {
            out.flush();
            channel.force(true);
        }

        @Override
        public void close() throws IOException
        {
            try (channel)
            {
                out.flush();
            }
        }
    }
}
