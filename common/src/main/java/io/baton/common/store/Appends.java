package io.baton.common.store;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.ipc.RemoteException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;

/**
 * Opens a run directory's file for append when an earlier writer died with it open. On HDFS that writer's lease
 * outlives it (a minute before another client may even start recovering it, an hour before the NameNode does), so a
 * relaunched replica or a rerun driver would fail with "this file lease is currently owned by ..." until then. The
 * callers write only under the run directory's lock, so a lease held by another client is a dead writer's: it is
 * recovered (the file closed at its last complete data) and the append retried.
 *
 * <p>Stateless.
 */
public final class Appends
{
    /** Longest wait for the NameNode to recover a dead writer's lease. */
    public static final Duration RECOVERY_LIMIT = Duration.ofSeconds(60);
    private static final long POLL_MS = 500;

    private Appends()
    {
    }

    /** {@code fs.append(file)}, recovering a dead writer's HDFS lease first when the append is refused for it. */
    public static FSDataOutputStream open(final FileSystem fs, final Path file) throws IOException
    {
        try
        {
            return fs.append(file);
        }
        catch (final IOException ex)
        {
            if (!(fs instanceof DistributedFileSystem) || !leaseHeldElsewhere(ex))
            {
                throw ex;
            }
            recoverLease((DistributedFileSystem) fs, file, ex);
            return fs.append(file);
        }
    }

    /** Whether the NameNode refused the append because another client holds or is recovering the file's lease. */
    static boolean leaseHeldElsewhere(final IOException ex)
    {
        final String name = ex instanceof RemoteException ? ((RemoteException) ex).getClassName()
            : ex.getClass().getName();
        return name.endsWith(".AlreadyBeingCreatedException") || name.endsWith(".RecoveryInProgressException");
    }

    private static void recoverLease(final DistributedFileSystem fs, final Path file, final IOException refused)
        throws IOException
    {
        final long deadline = System.nanoTime() + RECOVERY_LIMIT.toNanos();
        while (!fs.recoverLease(file))
        {
            if (System.nanoTime() - deadline > 0)
            {
                refused.addSuppressed(new IOException("the lease of " + file + " was not recovered within "
                    + RECOVERY_LIMIT.toSeconds() + " s"));
                throw refused;
            }
            try
            {
                Thread.sleep(POLL_MS);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while recovering the lease of " + file);
            }
        }
    }
}
