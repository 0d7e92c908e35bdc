package io.baton.common.store;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One file named by a local path or any Hadoop file system URI ({@code hdfs://}, {@code s3a://}, ...) as a local file,
 * for the code that needs {@link java.io.File} (DL4J's {@code ModelSerializer}, {@link java.util.zip.ZipFile}): a
 * model zip is read from a local copy, and written to a local file that {@link #publish} then puts in place. A local
 * location is used as it is, with no copy. Written by hand because Hadoop's {@code FileUtil.copy} neither refuses an
 * existing destination in one line nor cleans its local side.
 *
 * <p>Threading: one thread; {@link #close()} deletes the local copy (if one was made) and is idempotent.
 */
public final class StagedFile implements AutoCloseable
{
    private final URI uri;
    private final Path local;
    private final Path tempDir;

    private StagedFile(final URI uri, final Path local, final Path tempDir)
    {
        this.uri = uri;
        this.local = local;
        this.tempDir = tempDir;
    }

    /** The location as a URI: a scheme-less path becomes an absolute {@code file:} URI. */
    public static URI toUri(final String location)
    {
        final URI uri = URI.create(location.replace(" ", "%20"));
        return uri.getScheme() == null ? Path.of(location).toAbsolutePath().toUri() : uri;
    }

    /** Whether the location is on this machine's file system (used in place) rather than a Hadoop FS to copy from. */
    public static boolean isLocal(final String location)
    {
        return "file".equals(toUri(location).getScheme());
    }

    /**
     * The file at {@code location} as a local file: itself when local, else a copy in a new temporary directory.
     *
     * @throws IllegalArgumentException naming the location when it does not exist or is a directory.
     */
    public static StagedFile read(final String location)
    {
        final URI uri = toUri(location);
        if ("file".equals(uri.getScheme()))
        {
            final Path path = Path.of(uri);
            if (!Files.isRegularFile(path))
            {
                throw new IllegalArgumentException(location + (Files.isDirectory(path) ? " is a directory, not a file"
                    : " does not exist"));
            }
            return new StagedFile(uri, path, null);
        }
        Path tempDir = null;
        try
        {
            final FileSystem fs = FileSystem.get(uri, HadoopConf.fresh());
            final org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(uri);
            final FileStatus status;
            try
            {
                status = fs.getFileStatus(source);
            }
            catch (final FileNotFoundException ex)
            {
                throw new IllegalArgumentException(location + " does not exist");
            }
            if (status.isDirectory())
            {
                throw new IllegalArgumentException(location + " is a directory, not a file");
            }
            tempDir = Files.createTempDirectory("baton-staged-");
            final Path local = tempDir.resolve(source.getName());
            fs.copyToLocalFile(false, source, new org.apache.hadoop.fs.Path(local.toUri()), true);
            return new StagedFile(uri, local, tempDir);
        }
        catch (final IOException ex)
        {
            deleteQuietly(tempDir);
            throw new UncheckedIOException("cannot read " + location + ": " + ex.getMessage(), ex);
        }
        catch (final RuntimeException ex)
        {
            deleteQuietly(tempDir);
            throw ex;
        }
    }

    /**
     * A local file to write what belongs at {@code location}; nothing is at the location until {@link #publish}. When
     * the location exists and {@code overwrite} is false, refuses before anything is written.
     *
     * @param what how the caller's user names the destination in an error ("--output model.zip").
     */
    public static StagedFile write(final String location, final boolean overwrite, final String what)
    {
        final URI uri = toUri(location);
        if (!overwrite && exists(uri))
        {
            throw new IllegalArgumentException(what + " already exists; use --overwrite to replace it");
        }
        if ("file".equals(uri.getScheme()))
        {
            return new StagedFile(uri, Path.of(uri), null);
        }
        try
        {
            final Path tempDir = Files.createTempDirectory("baton-staged-");
            return new StagedFile(uri, tempDir.resolve(new org.apache.hadoop.fs.Path(uri).getName()), tempDir);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot stage " + location + ": " + ex.getMessage(), ex);
        }
    }

    /** Whether anything is at the location. */
    public static boolean exists(final URI uri)
    {
        if ("file".equals(uri.getScheme()))
        {
            return Files.exists(Path.of(uri));
        }
        try
        {
            return FileSystem.get(uri, HadoopConf.fresh()).exists(new org.apache.hadoop.fs.Path(uri));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot reach " + uri + ": " + ex.getMessage(), ex);
        }
    }

    /** The local file: the location itself, or the copy / the file to write. */
    public Path local()
    {
        return local;
    }

    /** Whether the location is a Hadoop FS one (a copy is involved). */
    public boolean isRemote()
    {
        return tempDir != null;
    }

    /** The location this stands for. */
    public URI uri()
    {
        return uri;
    }

    /**
     * Puts the written local file at the location (a copy to the Hadoop FS; nothing to do for a local location). On
     * a store without atomic rename the file appears when its upload completes (S3A) or is written in place.
     */
    public void publish() throws IOException
    {
        if (tempDir == null)
        {
            return;
        }
        upload(local, FileSystem.get(uri, HadoopConf.fresh()), new org.apache.hadoop.fs.Path(uri));
    }

    /**
     * Writes a local file to {@code destination}, replacing it, through the file system's output stream (the path
     * Baton's other writers use). Not {@code FileSystem.copyFromLocalFile}: S3A sends that through its transfer
     * manager, whose checksummed upload an S3-compatible server (S3Proxy 2.6.0) refused.
     */
    public static void upload(final Path local, final FileSystem fs, final org.apache.hadoop.fs.Path destination)
        throws IOException
    {
        try (InputStream in = Files.newInputStream(local);
             FSDataOutputStream out = fs.create(destination, true))
        {
            in.transferTo(out);
        }
    }

    @Override
    public void close()
    {
        deleteQuietly(tempDir);
    }

    private static void deleteQuietly(final Path dir)
    {
        if (dir == null || !Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir))
        {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException ex)
        {
            // a temporary directory left behind is not worth failing the command for
        }
    }
}
