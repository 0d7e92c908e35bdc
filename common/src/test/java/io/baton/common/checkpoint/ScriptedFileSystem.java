package io.baton.common.checkpoint;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The raw local file system with test hooks: creates can be held at a gate (a slow store), made to fail, and renames
 * made to fail; it counts files open for writing at the same time.
 */
final class ScriptedFileSystem extends FilterFileSystem
{
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile Predicate<Path> failCreate = p -> false;
    private volatile Predicate<Path> failRename = p -> false;
    private final AtomicInteger openForWrite = new AtomicInteger();
    private final AtomicInteger maxOpenForWrite = new AtomicInteger();
    private final AtomicInteger heldAtGate = new AtomicInteger();
    private final AtomicInteger interruptedAtGate = new AtomicInteger();

    ScriptedFileSystem() throws IOException
    {
        super(newRawLocal());
    }

    private static RawLocalFileSystem newRawLocal() throws IOException
    {
        final RawLocalFileSystem raw = new RawLocalFileSystem();
        raw.initialize(URI.create("file:///"), new Configuration());
        return raw;
    }

    /** From now on every create waits until {@link #openGate()}. */
    void closeGate()
    {
        gate = new CountDownLatch(1);
    }

    void openGate()
    {
        gate.countDown();
    }

    /** Number of creates that were interrupted while they waited at the gate. */
    int interruptedAtGate()
    {
        return interruptedAtGate.get();
    }

    /** Number of creates currently waiting at the gate. */
    int heldAtGate()
    {
        return heldAtGate.get();
    }

    void failCreateOf(final Predicate<Path> which)
    {
        failCreate = which;
    }

    void failRenameTo(final Predicate<Path> which)
    {
        failRename = which;
    }

    int maxOpenForWrite()
    {
        return maxOpenForWrite.get();
    }

    @Override
    public FSDataOutputStream create(
        final Path f,
        final FsPermission permission,
        final boolean overwrite,
        final int bufferSize,
        final short replication,
        final long blockSize,
        final Progressable progress) throws IOException
    {
        heldAtGate.incrementAndGet();
        try
        {
            if (!gate.await(60, TimeUnit.SECONDS))
            {
                throw new IOException("test gate not opened within 60 s");
            }
        }
        catch (final InterruptedException ex)
        {
            interruptedAtGate.incrementAndGet();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted at the test gate");
        }
        finally
        {
            heldAtGate.decrementAndGet();
        }
        if (failCreate.test(f))
        {
            throw new IOException("injected create failure for " + f);
        }
        final FSDataOutputStream out = super.create(f, permission, overwrite, bufferSize, replication, blockSize,
            progress);
        maxOpenForWrite.accumulateAndGet(openForWrite.incrementAndGet(), Math::max);
        return new FSDataOutputStream(out, null)
        {
            private boolean closed;

            @Override
            public void close() throws IOException
            {
                if (!closed)
                {
                    closed = true;
                    openForWrite.decrementAndGet();
                }
                super.close();
            }
        };
    }

    @Override
    public boolean rename(final Path src, final Path dst) throws IOException
    {
        if (failRename.test(dst))
        {
            return false;
        }
        return super.rename(src, dst);
    }
}
