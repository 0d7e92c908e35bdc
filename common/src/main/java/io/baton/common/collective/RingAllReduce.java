package io.baton.common.collective;

import java.util.List;

import org.agrona.DirectBuffer;

/**
 * Ring all-reduce. Step s in [0, 2(N-1)): send segment (rank - s) mod N to the right neighbour and receive segment
 * (rank - 1 - s) mod N from the left one: added during reduce-scatter (s < N-1), copied during all-gather. Each
 * segment is cut into chunks; chunk k of step s is sent once chunk k of step s-1 arrived. Segment c is summed in the
 * fixed order {@code x_c + x_(c+1) + ... + x_(c-1)} (ranks mod N), then copied, so every rank holds the same bits.
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

    /** Reduces {@code count} floats at {@code base/address} (Unsafe addressing) in place; AVG if {@code avg}. */
    RingAllReduce(final PeerChannel channel, final FloatMath math, final int rank, final int worldSize,
        final int chunkFloats, final Object base, final long address, final int count, final boolean avg)
    {
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
            if (!channel.trySend(name, right, WireFormat.TYPE_RING, sendStep, sendChunk, base,
                address + (long)first * Float.BYTES, count * Float.BYTES))
            {
                break;
            }
            sendChunk++;
            work++;
            normalize();
        }
        return work;
    }

    @Override
    public void onMessage(final int type, final int sender, final int step, final int index,
        final DirectBuffer buffer, final int offset, final int length)
    {
        if (type != WireFormat.TYPE_RING || sender != left || step != receiveStep || index != receiveChunk)
        {
            throw channel.protocol("ring expected step=" + receiveStep + " chunk=" + receiveChunk + " from rank " +
                left + ", got type=" + type + " step=" + step + " chunk=" + index + " from rank " + sender);
        }
        final int segment = receiveSegment(step);
        final int first = segmentStart[segment] + index * chunkFloats;
        final int count = Math.min(chunkFloats, segmentStart[segment] + segmentLength[segment] - first);
        if (length != count * Float.BYTES)
        {
            throw channel.protocol("ring step=" + step + " chunk=" + index + " from rank " + sender + " carried " +
                length + " bytes, expected " + count * Float.BYTES + " (do all ranks pass the same length?)");
        }
        final long target = address + (long)first * Float.BYTES;
        if (step < worldSize - 1)
        {
            math.addReceived(base, target, buffer, offset, count);
            if (avg && step == worldSize - 2)
            {
                FloatMath.scale(base, target, count, 1.0f / worldSize);
            }
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
