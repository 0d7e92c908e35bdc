package io.baton.common.collective;

import java.nio.charset.StandardCharsets;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Header of every Baton collective message (native byte order, 48 bytes so float/double payloads stay aligned):
 * <pre>
 *   0 int  magic          4 int  type
 *   8 long jobHash       16 long generation
 *  24 long sequence      32 int  senderRank
 *  36 int  step          40 int  index          44 int  worldSize
 * </pre>
 */
final class WireFormat
{
    static final int MAGIC = 0xBA70_C011;
    static final int HEADER_LENGTH = 48;

    static final int TYPE_HELLO = 1;
    static final int TYPE_HEARTBEAT = 2;
    static final int TYPE_RING = 3;
    static final int TYPE_ALL_TO_ALL = 4;
    static final int TYPE_BROADCAST = 5;
    /** Ring messages of 2-byte values (collective.compression fp16 and bf16); TYPE_RING carries floats. */
    static final int TYPE_RING_FP16 = 6;
    static final int TYPE_RING_BF16 = 7;

    /** The ring's message type for a compression setting. */
    static int ringType(final CollectiveSettings.Compression compression)
    {
        switch (compression)
        {
            case FP16:
                return TYPE_RING_FP16;
            case BF16:
                return TYPE_RING_BF16;
            default:
                return TYPE_RING;
        }
    }

    /** The compression a ring message type carries, or null if it is no ring message. */
    static CollectiveSettings.Compression ringCompression(final int type)
    {
        switch (type)
        {
            case TYPE_RING:
                return CollectiveSettings.Compression.NONE;
            case TYPE_RING_FP16:
                return CollectiveSettings.Compression.FP16;
            case TYPE_RING_BF16:
                return CollectiveSettings.Compression.BF16;
            default:
                return null;
        }
    }

    static final int MAGIC_OFFSET = 0;
    static final int TYPE_OFFSET = 4;
    static final int JOB_OFFSET = 8;
    static final int GENERATION_OFFSET = 16;
    static final int SEQUENCE_OFFSET = 24;
    static final int SENDER_OFFSET = 32;
    static final int STEP_OFFSET = 36;
    static final int INDEX_OFFSET = 40;
    static final int WORLD_OFFSET = 44;

    private WireFormat()
    {
    }

    static void encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int type,
        final long jobHash,
        final long generation,
        final long sequence,
        final int sender,
        final int step,
        final int index,
        final int worldSize)
    {
        buffer.putInt(offset + MAGIC_OFFSET, MAGIC);
        buffer.putInt(offset + TYPE_OFFSET, type);
        buffer.putLong(offset + JOB_OFFSET, jobHash);
        buffer.putLong(offset + GENERATION_OFFSET, generation);
        buffer.putLong(offset + SEQUENCE_OFFSET, sequence);
        buffer.putInt(offset + SENDER_OFFSET, sender);
        buffer.putInt(offset + STEP_OFFSET, step);
        buffer.putInt(offset + INDEX_OFFSET, index);
        buffer.putInt(offset + WORLD_OFFSET, worldSize);
    }

    static int type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + TYPE_OFFSET);
    }

    static long jobHash(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + JOB_OFFSET);
    }

    static long generation(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + GENERATION_OFFSET);
    }

    static long sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + SEQUENCE_OFFSET);
    }

    static int sender(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SENDER_OFFSET);
    }

    static int step(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + STEP_OFFSET);
    }

    static int index(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + INDEX_OFFSET);
    }

    static int worldSize(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + WORLD_OFFSET);
    }

    static boolean hasMagic(final DirectBuffer buffer, final int offset, final int length)
    {
        return length >= HEADER_LENGTH && buffer.getInt(offset + MAGIC_OFFSET) == MAGIC;
    }

    /** 64-bit FNV-1a of the job id's UTF-8 bytes: the job identity carried in every header. */
    static long jobHash(final String jobId)
    {
        long hash = 0xcbf29ce484222325L;
        for (final byte b : jobId.getBytes(StandardCharsets.UTF_8))
        {
            hash ^= b & 0xFF;
            hash *= 0x100000001b3L;
        }
        return hash;
    }
}
