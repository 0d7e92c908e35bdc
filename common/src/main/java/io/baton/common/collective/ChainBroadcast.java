package io.baton.common.collective;

import java.util.List;

import org.agrona.DirectBuffer;

/** Pipelined chain broadcast root -> root+1 -> ... -> root-1, chunk by chunk. */
final class ChainBroadcast implements Operation
{
    private final PeerChannel channel;
    private final int chunkFloats;
    private final Object base;
    private final long address;
    private final int count;
    private final int chunks;
    private final int left;
    private final int right;
    private final boolean forward;
    private int sent;
    private int receivedChunks;

    ChainBroadcast(final PeerChannel channel, final int rank, final int worldSize, final int chunkFloats,
        final Object base, final long address, final int count, final int root)
    {
        this.channel = channel;
        this.chunkFloats = chunkFloats;
        this.base = base;
        this.address = address;
        this.count = count;
        this.chunks = (count + chunkFloats - 1) / chunkFloats;
        this.left = (rank - 1 + worldSize) % worldSize;
        this.right = (rank + 1) % worldSize;
        this.forward = Math.floorMod(rank - root, worldSize) < worldSize - 1;
        this.receivedChunks = rank == root ? chunks : 0;
    }

    @Override
    public int doSend(final String name)
    {
        int work = 0;
        while (forward && sent < receivedChunks && work < CollectiveEngine.FRAGMENT_LIMIT)
        {
            final int first = sent * chunkFloats;
            final int n = Math.min(chunkFloats, count - first);
            if (!channel.trySend(name, right, WireFormat.TYPE_BROADCAST, 0, sent, base,
                address + (long)first * Float.BYTES, n * Float.BYTES))
            {
                break;
            }
            sent++;
            work++;
        }
        return work;
    }

    @Override
    public void onMessage(final int type, final int sender, final int step, final int index,
        final DirectBuffer buffer, final int offset, final int length)
    {
        final int first = index * chunkFloats;
        final int n = Math.min(chunkFloats, count - first);
        if (type != WireFormat.TYPE_BROADCAST || sender != left || index != receivedChunks ||
            length != n * Float.BYTES)
        {
            throw channel.protocol("broadcast expected chunk=" + receivedChunks + " of " + chunks + " from rank " +
                left + ", got type=" + type + " chunk=" + index + " length=" + length + " from rank " + sender);
        }
        FloatMath.copyReceived(base, address + (long)first * Float.BYTES, buffer, offset, n);
        receivedChunks++;
    }

    @Override
    public boolean isDone()
    {
        return receivedChunks == chunks && (!forward || sent == chunks);
    }

    @Override
    public List<Integer> waitingOn()
    {
        return receivedChunks < chunks ? List.of(left) : List.of(right);
    }
}
