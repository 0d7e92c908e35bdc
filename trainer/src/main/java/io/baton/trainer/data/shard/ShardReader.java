package io.baton.trainer.data.shard;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Random access to the records of one shard file (see {@link ShardFormat}), on local disk or read by position from a
 * remote file system ({@link ShardBlockCache}). Reads the index once at open; each record is then one positional
 * read, checked against its CRC32C (version 2 shards) before any of it is used, so a damaged record fails naming the
 * shard and the record instead of decoding into a different image. Thread-safe: positional reads share no file
 * position.
 */
public final class ShardReader implements AutoCloseable
{
    private final ShardBytes channel;
    private final String file;
    private final long[] offsets;
    private final boolean recordCrcs;

    private ShardReader(final ShardBytes channel, final long[] offsets, final boolean recordCrcs)
    {
        this.channel = channel;
        this.file = channel.name();
        this.offsets = offsets;
        this.recordCrcs = recordCrcs;
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
            final long header = readFully(channel, 0, ShardFormat.HEADER_LENGTH).getLong();
            if (header != ShardFormat.HEADER_MAGIC && header != ShardFormat.HEADER_MAGIC_V1)
            {
                throw new IOException("not a shard (bad header): " + file);
            }
            final ByteBuffer index = readFully(channel, indexOffset, (int)indexBytes);
            final long[] offsets = new long[count + 1];
            for (int i = 0; i <= count; i++)
            {
                offsets[i] = index.getLong();
            }
            return new ShardReader(channel, offsets, header == ShardFormat.HEADER_MAGIC);
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

    /** Whether records carry a CRC32C (version 2); version 1 shards can only be checked as whole files. */
    public boolean recordCrcs()
    {
        return recordCrcs;
    }

    /**
     * The record at {@code ordinal}; {@code firstSampleId} is the shard's first sample id from the manifest. Fails
     * with an IOException naming the shard, the record and the sample when the record is damaged.
     */
    public ShardRecord read(final int ordinal, final long firstSampleId) throws IOException
    {
        if (ordinal < 0 || ordinal >= count())
        {
            throw new IndexOutOfBoundsException("ordinal " + ordinal + " not in [0, " + count() + ") of " + file);
        }
        final long start = offsets[ordinal];
        final long length = offsets[ordinal + 1] - start;
        final int minimum = ShardFormat.RECORD_PREFIX_LENGTH + 4 + (recordCrcs ? ShardFormat.RECORD_CRC_LENGTH : 0);
        if (length < minimum || length > Integer.MAX_VALUE)
        {
            throw corrupt(ordinal, firstSampleId, "index gives it " + length + " bytes");
        }
        final ByteBuffer record = readFully(channel, start, (int) length);
        if (recordCrcs)
        {
            final int body = (int) length - ShardFormat.RECORD_CRC_LENGTH;
            final CRC32C crc = new CRC32C();
            crc.update(record.duplicate().limit(body));
            final long stored = Integer.toUnsignedLong(record.getInt(body));
            if (crc.getValue() != stored)
            {
                throw corrupt(ordinal, firstSampleId, "crc32c " + Manifest.crcHex(crc.getValue()) + ", stored "
                    + Manifest.crcHex(stored));
            }
            record.limit(body);
        }
        try
        {
            final int label = record.getInt();
            final byte[] path = new byte[record.getInt()];
            record.get(path);
            final byte[] bytes = new byte[record.getInt()];
            if (bytes.length != record.remaining())
            {
                throw corrupt(ordinal, firstSampleId, "data length " + bytes.length + " but " + record.remaining()
                    + " bytes left");
            }
            record.get(bytes);
            return new ShardRecord(firstSampleId + ordinal, label, new String(path, StandardCharsets.UTF_8), bytes);
        }
        catch (final BufferUnderflowException | NegativeArraySizeException ex)
        {
            // Version 1 records have no CRC: a damaged length shows up here.
            throw corrupt(ordinal, firstSampleId, "a length field points outside the record");
        }
    }

    private IOException corrupt(final int ordinal, final long firstSampleId, final String why)
    {
        return new IOException("corrupt record " + ordinal + " (sample " + (firstSampleId + ordinal) + ") of shard "
            + file + ": " + why);
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
