package io.baton.coordinator.lock;

import org.apache.hadoop.fs.EtagSource;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * S3 conditional writes through Hadoop's create builder (S3A since Hadoop 3.4.2): a PUT with {@code If-None-Match: *}
 * creates an object only if there is none, and one with {@code If-Match: <etag>} replaces it only if it is still that
 * version. The store decides, atomically, so two jobs can never both succeed. A store that ignores the headers (older
 * S3-compatible servers) would let both succeed, so {@link #honoured} tries it before the lock relies on it.
 *
 * <p>Thread-safe (stateless).
 */
final class ConditionalWrites
{
    /** Hadoop's create option: fail unless the file is absent (If-None-Match). */
    static final String IF_NONE_MATCH = "fs.option.create.conditional.overwrite";
    /** Hadoop's create option: overwrite only the version with this etag (If-Match). */
    static final String IF_MATCH = "fs.option.create.conditional.overwrite.etag";

    private static final Logger LOG = LoggerFactory.getLogger(ConditionalWrites.class);

    private ConditionalWrites()
    {
    }

    /**
     * Whether {@code fs} refuses a second conditional create of one file: a probe file in {@code dir} is created
     * twice (and removed). False when the connector lacks the option or the store ignores it.
     */
    static boolean honoured(final FileSystem fs, final Path dir)
    {
        final Path probe = new Path(dir, ".baton.lock.probe-" + UUID.randomUUID());
        final byte[] bytes = "probe\n".getBytes(StandardCharsets.UTF_8);
        try
        {
            return create(fs, probe, bytes) && !create(fs, probe, bytes);
        }
        catch (final IOException | RuntimeException ex)
        {
            LOG.info("{}: conditional writes unavailable: {}", dir, ex.toString());
            return false;
        }
        finally
        {
            try
            {
                fs.delete(probe, false);
            }
            catch (final IOException ex)
            {
                LOG.warn("{}: could not remove {}: {}", dir, probe, ex.toString());
            }
        }
    }

    /** Creates {@code file} only if it does not exist; false when it does. */
    static boolean create(final FileSystem fs, final Path file, final byte[] bytes) throws IOException
    {
        try (FSDataOutputStream out = (FSDataOutputStream) fs.createFile(file).overwrite(false).must(IF_NONE_MATCH, true).build())
        {
            out.write(bytes);
        }
        catch (final FileAlreadyExistsException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            if (preconditionFailed(ex))
            {
                return false;
            }
            throw ex;
        }
        return true;
    }

    /** Replaces {@code file} only if its etag is still {@code etag}; false when it changed or is gone. */
    static boolean replace(final FileSystem fs, final Path file, final String etag, final byte[] bytes)
        throws IOException
    {
        try (FSDataOutputStream out = (FSDataOutputStream) fs.createFile(file).overwrite(true).must(IF_MATCH, etag).build())
        {
            out.write(bytes);
        }
        catch (final FileNotFoundException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            if (preconditionFailed(ex))
            {
                return false;
            }
            throw ex;
        }
        return true;
    }

    /** The etag of {@code file}, or null when it is gone or the store gives none. */
    static String etag(final FileSystem fs, final Path file) throws IOException
    {
        try
        {
            final FileStatus status = fs.getFileStatus(file);
            return status instanceof EtagSource source ? source.getEtag() : null;
        }
        catch (final FileNotFoundException ex)
        {
            return null;
        }
    }

    /** S3's 412 (and a 409 conflict of concurrent conditional writes), however the connector reports it. */
    private static boolean preconditionFailed(final Throwable ex)
    {
        for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            final String name = t.getClass().getSimpleName();
            final String message = String.valueOf(t.getMessage());
            if (t instanceof FileAlreadyExistsException || name.equals("RemoteFileChangedException")
                || message.contains("412") || message.contains("PreconditionFailed")
                || message.contains("ConditionalRequestConflict"))
            {
                return true;
            }
        }
        return false;
    }
}
