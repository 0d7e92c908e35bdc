package io.baton.common.checkpoint;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * Counts and CRC32C-checksums the bytes written through it. Closing it does not close the wrapped stream (the
 * store syncs and closes that itself), so a part writer that closes its stream does no harm.
 */
final class ChecksummingOutputStream extends FilterOutputStream
{
    private static final int SLICE_BYTES = 1 << 20;

    private final CRC32C crc = new CRC32C();
    private final WriteCancellation cancellation;
    private final String what;
    private long sizeBytes;

    ChecksummingOutputStream(final OutputStream out)
    {
        this(out, WriteCancellation.none(), "");
    }

    /** Stops with a {@link CheckpointCancelledException} at the first slice written after a cancel of {@code what}. */
    ChecksummingOutputStream(final OutputStream out, final WriteCancellation cancellation, final String what)
    {
        super(out);
        this.cancellation = cancellation;
        this.what = what;
    }

    @Override
    public void write(final int b) throws IOException
    {
        out.write(b);
        crc.update(b);
        sizeBytes++;
    }

    /**
     * Writes in slices of at most 1 MB: the local file system's native write copies each call's whole range into a
     * temporary native buffer, and the checksum of a slice is computed while it is still in cache.
     */
    @Override
    public void write(final byte[] b, final int off, final int len) throws IOException
    {
        for (int done = 0; done < len; )
        {
            if (cancellation.isCancelled())
            {
                throw new CheckpointCancelledException(what + " was cancelled after " + (sizeBytes + done) + " bytes");
            }
            final int n = Math.min(SLICE_BYTES, len - done);
            out.write(b, off + done, n);
            crc.update(b, off + done, n);
            done += n;
        }
        sizeBytes += len;
    }

    @Override
    public void close() throws IOException
    {
        out.flush();
    }

    long sizeBytes()
    {
        return sizeBytes;
    }

    int crc32c()
    {
        return (int) crc.getValue();
    }
}
