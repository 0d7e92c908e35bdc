package io.baton.common.store;

import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * A local directory with an object store's semantics, for tests of the code paths Baton takes on S3A without an S3
 * server: scheme {@code objstore://} (registered in the tests' core-site.xml), no append (the path capability says so
 * and {@code append} throws, as S3A's does), a file written through {@code create} appears only when its stream is
 * closed (whole, as a PUT does; hflush and hsync do nothing), and a create without overwrite checks for the file when
 * it is opened, not atomically when it is published, and setting a file's times does nothing. Its scheme is neither among the stores with an atomic rename
 * nor among those with an exclusive create ({@link StoreSemantics}).
 */
public class ObjectStoreLikeFileSystem extends RawLocalFileSystem
{
    public static final String SCHEME = "objstore";
    private static final URI ROOT = URI.create(SCHEME + ":///");

    @Override
    public URI getUri()
    {
        return ROOT;
    }

    @Override
    public String getScheme()
    {
        return SCHEME;
    }

    @Override
    public boolean hasPathCapability(final Path path, final String capability) throws IOException
    {
        return !CommonPathCapabilities.FS_APPEND.equals(capability) && super.hasPathCapability(path, capability);
    }

    /** S3A's files have no settable times (its setTimes does nothing). */
    @Override
    public void setTimes(final Path p, final long mtime, final long atime)
    {
    }

    @Override
    public FSDataOutputStream append(final Path f, final int bufferSize, final Progressable progress)
    {
        throw new UnsupportedOperationException("objstore:// does not support append (" + f + ")");
    }

    @Override
    public FSDataOutputStream create(final Path f, final boolean overwrite, final int bufferSize,
        final short replication, final long blockSize, final Progressable progress) throws IOException
    {
        return put(f, overwrite);
    }

    @Override
    public FSDataOutputStream create(final Path f, final FsPermission permission, final boolean overwrite,
        final int bufferSize, final short replication, final long blockSize, final Progressable progress)
        throws IOException
    {
        return put(f, overwrite);
    }

    @Override
    public FSDataOutputStream createNonRecursive(final Path f, final FsPermission permission, final boolean overwrite,
        final int bufferSize, final short replication, final long blockSize, final Progressable progress)
        throws IOException
    {
        return put(f, overwrite);
    }

    private FSDataOutputStream put(final Path f, final boolean overwrite) throws IOException
    {
        final java.nio.file.Path target = pathToFile(f).toPath();
        if (!overwrite && Files.exists(target))
        {
            throw new FileAlreadyExistsException(f + " already exists");
        }
        if (Files.isDirectory(target))
        {
            throw new FileAlreadyExistsException(f + " is a directory");
        }
        return new FSDataOutputStream(new ByteArrayOutputStream()
        {
            private boolean closed;

            @Override
            public void close() throws IOException
            {
                if (closed)
                {
                    return;
                }
                closed = true;
                Files.createDirectories(target.getParent());
                final java.nio.file.Path staged = target.resolveSibling("." + target.getFileName() + "."
                    + UUID.randomUUID() + ".put");
                Files.write(staged, toByteArray());
                Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        }, statistics);
    }
}
