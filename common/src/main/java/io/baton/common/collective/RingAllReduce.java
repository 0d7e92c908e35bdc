package io.baton.common.collective;

import java.util.List;
import java.util.Locale;

import org.agrona.DirectBuffer;

/**
 * Ring all-reduce. Step s in [0, 2(N-1)): send segment (rank - s) mod N to the right neighbour and receive segment
 * (rank - 1 - s) mod N from the left one: added during reduce-scatter (s < N-1), copied during all-gather. Each
 * segment is cut into chunks; chunk k of step s is sent once chunk k of step s-1 arrived. Segment c is summed in the
 * fixed order {@code x_c + x_(c+1) + ... + x_(c-1)} (ranks mod N), then copied, so every rank holds the same bits.
 *
 * <p>Compressed ({@link CollectiveSettings.Compression#FP16} or {@code BF16}): each message carries 2-byte values
 * (message types {@link WireFormat#TYPE_RING_FP16} and {@link WireFormat#TYPE_RING_BF16}, so ranks with different
 * settings fail naming them instead of reading one format as another),
 * narrowed from the sender's float partial sums; the receiver widens them and adds in float. A chunk holds twice as
 * many values, so a message has the same size and the ring sends half the bytes. The owner of a segment (the rank
 * that adds its last part, at step N-2) narrows and widens its finished sum (after the x 1/N of AVG) in place before
 * the all-gather sends it; widened values narrow to the same bytes again, so what every rank copies in the
 * all-gather, and forwards, equals the owner's: all ranks still end with the same bits.
 */
final class RingAllReduce implements Operation
{
    private final PeerChannel channel;
    private final FloatMath math;
    private final int worldSize;
    private final int chunkFloats;
    private final Object base;
    private final long address;
    private final boolean avg;
    private final CollectiveSettings.Compression compression;
    private final boolean compressed;
    private final int valueBytes;
    private final int messageType;
    /** Compressed: the step and chunk whose narrowed values are in the send scratch (-1: none). */
    private int narrowedStep = -1;
    private int narrowedChunk = -1;
    private final int rank;
    private final int left;
    private final int right;
    private final int totalSteps;
    private final int[] segmentStart;
    private final int[] segmentLength;
    private final int[] segmentChunks;
    private int sendStep;
    private int sendChunk;
    private int receiveStep;
    private int receiveChunk;

    /**
     * Reduces {@code count} floats at {@code base/address} (Unsafe addressing) in place; AVG if {@code avg}.
     *
     * @param chunkFloats values per message: the negotiated float chunk, x 2 when compressed ({@code math}'s
     *                    scratch must hold as many).
     */
    RingAllReduce(final PeerChannel channel, final FloatMath math, final int rank, final int worldSize,
        final int chunkFloats, final Object base, final long address, final int count, final boolean avg,
        final CollectiveSettings.Compression compression)
    {
        this.compression = compression;
        this.compressed = compression != CollectiveSettings.Compression.NONE;
        this.valueBytes = compression.wireBytes();
        this.messageType = WireFormat.ringType(compression);
        this.channel = channel;
        this.math = math;
        this.rank = rank;
        this.worldSize = worldSize;
        this.chunkFloats = chunkFloats;
        this.base = base;
        this.address = address;
        this.avg = avg;
        this.left = (rank - 1 + worldSize) % worldSize;
        this.right = (rank + 1) % worldSize;
        this.totalSteps = 2 * (worldSize - 1);
        this.segmentStart = new int[worldSize];
        this.segmentLength = new int[worldSize];
        this.segmentChunks = new int[worldSize];
        final int quotient = count / worldSize;
        final int remainder = count % worldSize;
        for (int c = 0; c < worldSize; c++)
        {
            segmentStart[c] = c * quotient + Math.min(c, remainder);
            segmentLength[c] = quotient + (c < remainder ? 1 : 0);
            segmentChunks[c] = (segmentLength[c] + chunkFloats - 1) / chunkFloats;
        }
        normalize();
    }

    private int sendSegment(final int step)
    {
        return Math.floorMod(rank - step, worldSize);
    }

    private int receiveSegment(final int step)
    {
        return Math.floorMod(rank - 1 - step, worldSize);
    }

    private void normalize()
    {
        while (sendStep < totalSteps && sendChunk >= segmentChunks[sendSegment(sendStep)])
        {
            sendStep++;
            sendChunk = 0;
        }
        while (receiveStep < totalSteps && receiveChunk >= segmentChunks[receiveSegment(receiveStep)])
        {
            receiveStep++;
            receiveChunk = 0;
        }
    }

    private boolean received(final int step, final int chunk)
    {
        return receiveStep > step || (receiveStep == step && receiveChunk > chunk);
    }

    @Override
    public int doSend(final String name)
    {
        int work = 0;
        while (work < CollectiveEngine.FRAGMENT_LIMIT && sendStep < totalSteps)
        {
            if (sendStep > 0 && !received(sendStep - 1, sendChunk))
            {
                break;
            }
            final int segment = sendSegment(sendStep);
            final int first = segmentStart[segment] + sendChunk * chunkFloats;
            final int count = Math.min(chunkFloats, segmentStart[segment] + segmentLength[segment] - first);
            if (!send(name, first, count))
            {
                break;
            }
            sendChunk++;
            work++;
            normalize();
        }
        return work;
    }

    private boolean send(final String name, final int first, final int count)
    {
        final long source = address + (long)first * Float.BYTES;
        if (!compressed)
        {
            return channel.trySend(name, right, messageType, sendStep, sendChunk, base, source,
                count * Float.BYTES);
        }
        if (narrowedStep != sendStep || narrowedChunk != sendChunk)
        {
            math.narrow(compression, base, source, count); // kept in the scratch while back pressured
            narrowedStep = sendStep;
            narrowedChunk = sendChunk;
        }
        final short[] wire = math.narrowed();
        return channel.trySend(name, right, messageType, sendStep, sendChunk, wire, FloatMath.SHORT_BASE,
            count * valueBytes);
    }

    @Override
    public void onMessage(final int type, final int sender, final int step, final int index,
        final DirectBuffer buffer, final int offset, final int length)
    {
        final CollectiveSettings.Compression theirs = WireFormat.ringCompression(type);
        if (theirs != null && theirs != compression)
        {
            throw channel.protocol("ring message of rank " + sender + " carries collective.compression=" +
                theirs.name().toLowerCase(Locale.ROOT) + ", but rank " + rank + " has collective.compression=" +
                compression.name().toLowerCase(Locale.ROOT) + " (every rank must have the same setting)");
        }
        if (type != messageType || sender != left || step != receiveStep || index != receiveChunk)
        {
            throw channel.protocol("ring expected step=" + receiveStep + " chunk=" + receiveChunk + " from rank " +
                left + ", got type=" + type + " step=" + step + " chunk=" + index + " from rank " + sender);
        }
        final int segment = receiveSegment(step);
        final int first = segmentStart[segment] + index * chunkFloats;
        final int count = Math.min(chunkFloats, segmentStart[segment] + segmentLength[segment] - first);
        if (length != count * valueBytes)
        {
            throw channel.protocol("ring step=" + step + " chunk=" + index + " from rank " + sender + " carried " +
                length + " bytes, expected " + count * valueBytes + " (do all ranks pass the same length?)");
        }
        final long target = address + (long)first * Float.BYTES;
        if (step < worldSize - 1)
        {
            if (compressed)
            {
                math.widenReceived(compression, buffer, offset, count);
                math.addScratch(base, target, count);
            }
            else
            {
                math.addReceived(base, target, buffer, offset, count);
            }
            if (step == worldSize - 2)
            {
                if (avg)
                {
                    FloatMath.scale(base, target, count, 1.0f / worldSize);
                }
                if (compressed)
                {
                    math.round(compression, base, target, count); // the owner holds what it will send
                }
            }
        }
        else if (compressed)
        {
            math.copyWidened(compression, base, target, buffer, offset, count);
        }
        else
        {
            FloatMath.copyReceived(base, target, buffer, offset, count);
        }
        receiveChunk++;
        normalize();
    }

    @Override
    public boolean isDone()
    {
        return sendStep == totalSteps && receiveStep == totalSteps;
    }

    @Override
    public List<Integer> waitingOn()
    {
        return receiveStep < totalSteps ? List.of(left) : List.of(right);
    }
}
