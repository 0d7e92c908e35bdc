package io.baton.trainer.data.shard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Random access to the records of one shard file (see {@link ShardFormat}), on local disk or read by position from a
 * remote file system ({@link ShardBlockCache}). Reads the index once at open; each record is then one positional
 * read. Thread-safe: positional reads share no file position.
 */
public final class ShardReader implements AutoCloseable
{
    private final ShardBytes channel;
    private final String file;
    private final long[] offsets;

    private ShardReader(final ShardBytes channel, final long[] offsets)
    {
        this.channel = channel;
        this.file = channel.name();
        this.offsets = offsets;
    }

    /** Opens a shard on local disk and reads its index; fails naming the file if it is not a complete shard. */
    public static ShardReader open(final Path file) throws IOException
    {
        return open(new LocalShardBytes(file));
    }

    /** Opens a shard and reads its index (closes {@code channel} if it is not a complete shard). */
    static ShardReader open(final ShardBytes channel) throws IOException
    {
        final String file = channel.name();
        try
        {
            final long size = channel.size();
            if (size < ShardFormat.HEADER_LENGTH + ShardFormat.FOOTER_LENGTH + 8)
            {
                throw new IOException("not a shard (only " + size + " bytes): " + file);
            }
            final ByteBuffer footer = readFully(channel, size - ShardFormat.FOOTER_LENGTH, ShardFormat.FOOTER_LENGTH);
            final int count = footer.getInt();
            final long indexOffset = footer.getLong();
            final long magic = footer.getLong();
            final long indexBytes = 8L * (count + 1);
            if (magic != ShardFormat.FOOTER_MAGIC || count < 0
                || indexOffset + indexBytes + ShardFormat.FOOTER_LENGTH != size)
            {
                throw new IOException("not a complete shard (bad footer: count=" + count + ", indexOffset="
                    + indexOffset + ", size=" + size + "): " + file);
            }
            if (readFully(channel, 0, ShardFormat.HEADER_LENGTH).getLong() != ShardFormat.HEADER_MAGIC)
            {
                throw new IOException("not a shard (bad header): " + file);
            }
            final ByteBuffer index = readFully(channel, indexOffset, (int)indexBytes);
            final long[] offsets = new long[count + 1];
            for (int i = 0; i <= count; i++)
            {
                offsets[i] = index.getLong();
            }
            return new ShardReader(channel, offsets);
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            throw ex;
        }
    }

    /** Records in this shard. */
    public int count()
    {
        return offsets.length - 1;
    }

    /** The record at {@code ordinal}; {@code firstSampleId} is the shard's first sample id from the manifest. */
    public ShardRecord read(final int ordinal, final long firstSampleId) throws IOException
    {
        if (ordinal < 0 || ordinal >= count())
        {
            throw new IndexOutOfBoundsException("ordinal " + ordinal + " not in [0, " + count() + ") of " + file);
        }
        final long start = offsets[ordinal];
        final ByteBuffer record = readFully(channel, start, (int)(offsets[ordinal + 1] - start));
        final int label = record.getInt();
        final byte[] path = new byte[record.getInt()];
        record.get(path);
        final byte[] bytes = new byte[record.getInt()];
        if (bytes.length != record.remaining())
        {
            throw new IOException("corrupt record " + ordinal + " in " + file + ": data length " + bytes.length
                + " but " + record.remaining() + " bytes left");
        }
        record.get(bytes);
        return new ShardRecord(firstSampleId + ordinal, label, new String(path, StandardCharsets.UTF_8), bytes);
    }

    /** The shard's local path or remote URI. */
    public String file()
    {
        return file;
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }

    private static ByteBuffer readFully(final ShardBytes channel, final long position, final int length)
        throws IOException
    {
        return ByteBuffer.wrap(channel.read(position, length));
    }
}
