package io.baton.common.checkpoint;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32C;

/**
 * Reads a part and, when its end is reached, checks the byte count and CRC32C against the manifest; throws
 * {@link CorruptCheckpointException} on a mismatch (also as soon as more bytes than recorded arrive).
 */
final class VerifyingInputStream extends FilterInputStream
{
    private final PartInfo expected;
    private final String where;
    private final CRC32C crc = new CRC32C();
    private long sizeBytes;
    private boolean verified;

    VerifyingInputStream(final InputStream in, final PartInfo expected, final String where)
    {
        super(in);
        this.expected = expected;
        this.where = where;
    }

    @Override
    public int read() throws IOException
    {
        final int b = in.read();
        if (b < 0)
        {
            verifyAtEnd();
        }
        else
        {
            crc.update(b);
            counted(1);
        }
        return b;
    }

    @Override
    public int read(final byte[] b, final int off, final int len) throws IOException
    {
        final int n = in.read(b, off, len);
        if (n < 0)
        {
            verifyAtEnd();
        }
        else
        {
            crc.update(b, off, n);
            counted(n);
        }
        return n;
    }

    @Override
    public long skip(final long n)
    {
        throw new UnsupportedOperationException("a verified part stream cannot skip");
    }

    @Override
    public boolean markSupported()
    {
        return false;
    }

    private void counted(final int n) throws CorruptCheckpointException
    {
        sizeBytes += n;
        if (sizeBytes > expected.sizeBytes())
        {
            throw new CorruptCheckpointException(where + ": part '" + expected.name() + "' is longer than the "
                + expected.sizeBytes() + " bytes recorded in the manifest");
        }
    }

    private void verifyAtEnd() throws CorruptCheckpointException
    {
        if (verified)
        {
            return;
        }
        if (sizeBytes != expected.sizeBytes())
        {
            throw new CorruptCheckpointException(where + ": part '" + expected.name() + "' is truncated: "
                + sizeBytes + " bytes, manifest records " + expected.sizeBytes());
        }
        final int actual = (int) crc.getValue();
        if (actual != expected.crc32c())
        {
            throw new CorruptCheckpointException(where + ": part '" + expected.name() + "' checksum mismatch: crc32c "
                + String.format("%08x", actual) + ", manifest records " + expected.crc32cHex() + " ("
                + sizeBytes + " bytes)");
        }
        verified = true;
    }
}
