package io.baton.common.store;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;

/**
 * Creates files and directories on any Hadoop file system, without Hadoop's process per file on the local one.
 * Hadoop's local file system ({@code file:}, {@link LocalFileSystem} and {@link RawLocalFileSystem}) sets the
 * permission of every file, checksum file and directory it creates by starting a {@code chmod} process when its native
 * library is absent, as it is in Baton's distribution: 15-40 ms each on a JVM of a few GB on a 2-core VM, and a
 * {@code BatonTrainingMaster} fit created ~58 such files (20 shards and their checksums when staging alone). Here a
 * local path is written with {@code java.nio} instead: the same bytes, the permission the process's umask gives (0644
 * under the usual 022, as Hadoop's default), no {@code .crc} file (Hadoop's local reader verifies one only where it
 * exists; a stale one of an overwritten file is removed). Any other file system creates as its own {@code create} and
 * {@code mkdirs} do.
 *
 * <p>Stateless and thread-safe.
 */
public final class LocalWrites
{
    private LocalWrites()
    {
    }

    /** Creates (or replaces) {@code file}, making its missing parent directories, as {@code fs.create(file, true)}. */
    public static OutputStream create(final FileSystem fs, final Path file) throws IOException
    {
        final java.nio.file.Path local = local(fs, file);
        if (local == null)
        {
            return fs.create(file, true);
        }
        final java.nio.file.Path parent = local.getParent();
        if (parent != null)
        {
            Files.createDirectories(parent);
            Files.deleteIfExists(parent.resolve("." + local.getFileName() + ".crc"));
        }
        return Files.newOutputStream(local, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
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
}
