package io.baton.common.store;

import org.apache.hadoop.fs.CommonPathCapabilities;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Locale;
import java.util.Set;

/**
 * What a Hadoop file system guarantees that Baton's run files rely on, in one place: whether files can be appended
 * to, whether a directory rename is one atomic step, and whether a create without overwrite is exclusive. HDFS and
 * local disks give all three; object stores (S3A, GCS, and others behind a connector) give none of them in general:
 * no append, a rename that copies object by object, and a create that checks for the file and then writes it.
 *
 * <p>Thread-safe (stateless).
 */
public final class StoreSemantics
{
    /** Schemes whose directory rename is atomic: POSIX disks, HDFS (NameNode), and the file systems built on it. */
    private static final Set<String> ATOMIC_RENAME = Set.of("file", "hdfs", "viewfs", "webhdfs", "swebhdfs", "ofs",
        "o3fs");
    /** Schemes whose create without overwrite fails when the file exists, atomically. */
    private static final Set<String> EXCLUSIVE_CREATE = Set.of("file", "hdfs", "viewfs", "webhdfs", "swebhdfs", "ofs",
        "o3fs");
    /** Amazon S3 through Hadoop's connector (s3a://); s3:// and s3n:// are older names some clusters map to it. */
    private static final Set<String> S3 = Set.of("s3a", "s3", "s3n");

    private StoreSemantics()
    {
    }

    /**
     * Whether {@code fs} can append to files under {@code path} (its path capability); false when it cannot say.
     */
    public static boolean appends(final FileSystem fs, final Path path)
    {
        try
        {
            return fs.hasPathCapability(path, CommonPathCapabilities.FS_APPEND);
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    /** Whether renaming a directory of {@code fs} is one atomic step (so a staging directory can be published). */
    public static boolean atomicRename(final FileSystem fs)
    {
        return ATOMIC_RENAME.contains(scheme(fs));
    }

    /** Whether a create without overwrite on {@code fs} fails atomically when the file exists. */
    public static boolean exclusiveCreate(final FileSystem fs)
    {
        return EXCLUSIVE_CREATE.contains(scheme(fs));
    }

    /** Whether {@code fs} is Amazon S3 (or an S3-compatible store) through the S3A connector. */
    public static boolean isS3(final FileSystem fs)
    {
        return S3.contains(scheme(fs));
    }

    private static String scheme(final FileSystem fs)
    {
        final String scheme = fs.getUri().getScheme();
        return scheme == null ? "file" : scheme.toLowerCase(Locale.ROOT);
    }
}
