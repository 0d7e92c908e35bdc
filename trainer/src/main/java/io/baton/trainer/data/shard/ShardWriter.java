package io.baton.trainer.data.shard;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * Writes one shard (see {@link ShardFormat}) to a stream, computing its CRC32C on the way. Records are appended in
 * sample-id order; {@link #finish()} writes the index and footer and closes the stream. Not thread-safe.
 */
public final class ShardWriter implements AutoCloseable
{
    private final CRC32C crc = new CRC32C();
    private final CRC32C recordCrc = new CRC32C();
    private final DataOutputStream out;
    private long[] offsets = new long[1024];
    private int count;
    private long written = ShardFormat.HEADER_LENGTH;
    private boolean finished;

    public ShardWriter(final OutputStream target) throws IOException
    {
        this.out = new DataOutputStream(new CheckedOutputStream(new java.io.BufferedOutputStream(target, 1 << 16),
            crc));
        out.writeLong(ShardFormat.HEADER_MAGIC);
    }

    /** Appends the next record; its ordinal in this shard is the number of records appended before. */
    public void append(final int label, final String path, final byte[] bytes) throws IOException
    {
        if (finished)
        {
            throw new IllegalStateException("shard already finished, count=" + count);
        }
        if (count + 1 >= offsets.length)
        {
            offsets = java.util.Arrays.copyOf(offsets, offsets.length * 2);
        }
        offsets[count++] = written;
        final byte[] pathBytes = path.getBytes(StandardCharsets.UTF_8);
        out.writeInt(label);
        out.writeInt(pathBytes.length);
        out.write(pathBytes);
        out.writeInt(bytes.length);
        out.write(bytes);
        out.writeInt((int) recordCrc(label, pathBytes, bytes));
        written += ShardFormat.RECORD_PREFIX_LENGTH + pathBytes.length + 4L + bytes.length
            + ShardFormat.RECORD_CRC_LENGTH;
    }

    /** CRC32C of a record's bytes as written: label, path length, path, data length, data. */
    private long recordCrc(final int label, final byte[] pathBytes, final byte[] bytes)
    {
        final java.nio.ByteBuffer ints = java.nio.ByteBuffer.allocate(8).putInt(label).putInt(pathBytes.length);
        recordCrc.reset();
        recordCrc.update(ints.array());
        recordCrc.update(pathBytes);
        recordCrc.update(ints.clear().putInt(bytes.length).flip());
        recordCrc.update(bytes);
        return recordCrc.getValue();
    }

    /** Records appended so far. */
    public int count()
    {
        return count;
    }

    /** Bytes written so far (the whole file once finished). */
    public long bytesWritten()
    {
        return written;
    }

    /** Writes index and footer, flushes and closes the stream; returns the file's CRC32C. */
    public long finish() throws IOException
    {
        if (!finished)
        {
            finished = true;
            final long indexOffset = written;
            offsets[count] = indexOffset;
            for (int i = 0; i <= count; i++)
            {
                out.writeLong(offsets[i]);
            }
            out.writeInt(count);
            out.writeLong(indexOffset);
            out.writeLong(ShardFormat.FOOTER_MAGIC);
            written += 8L * (count + 1) + ShardFormat.FOOTER_LENGTH;
            out.close();
        }
        return crc.getValue();
    }

    /** Closes the stream; the shard is complete only if {@link #finish()} was called. */
    @Override
    public void close() throws IOException
    {
        if (!finished)
        {
            finished = true;
            out.close();
        }
    }
}
