package io.baton.common.collective;

import java.util.ArrayList;
import java.util.List;

import org.agrona.DirectBuffer;

/**
 * One-hop exchange: send the same payload to every peer, receive one payload from every peer (small all-reduce,
 * all-gather, barrier), or, with {@link #onlyFrom(int)}, only from a root (broadcastBytes).
 */
final class AllToAll implements Operation
{
    private final PeerChannel channel;
    private final int rank;
    private final int worldSize;
    private final int type;
    private final Object base;
    private final long address;
    private final int bytes;
    private final boolean[] sent;
    private final byte[][] received;
    private int sendsLeft;
    private int receivesLeft;
    private int onlyFrom = -1;

    /** Sends {@code bytes} bytes at {@code base/address} (Unsafe addressing) as messages of {@code type}. */
    AllToAll(final PeerChannel channel, final int rank, final int worldSize, final int type, final Object base,
        final long address, final int bytes)
    {
        this.channel = channel;
        this.rank = rank;
        this.worldSize = worldSize;
        this.type = type;
        this.base = base;
        this.address = address;
        this.bytes = bytes;
        this.sent = new boolean[worldSize];
        this.received = new byte[worldSize][];
        sendsLeft = worldSize - 1;
        receivesLeft = worldSize - 1;
    }

    /** Root sends to every rank, the others only receive from root. */
    void onlyFrom(final int root)
    {
        onlyFrom = root;
        sendsLeft = rank == root ? worldSize - 1 : 0;
        receivesLeft = rank == root ? 0 : 1;
    }

    /** Per rank, the payload it sent (null for this rank, and for ranks not heard from). */
    byte[][] received()
    {
        return received;
    }

    @Override
    public int doSend(final String name)
    {
        int work = 0;
        for (int i = 1; i < worldSize && sendsLeft > 0; i++)
        {
            final int peer = (rank + i) % worldSize;
            if (!sent[peer] && channel.trySend(name, peer, type, 0, 0, base, address, bytes))
            {
                sent[peer] = true;
                sendsLeft--;
                work++;
            }
        }
        return work;
    }

    @Override
    public void onMessage(final int msgType, final int sender, final int step, final int index,
        final DirectBuffer buffer, final int offset, final int length)
    {
        if (msgType != type || received[sender] != null || (onlyFrom >= 0 && sender != onlyFrom))
        {
            throw channel.protocol("unexpected message type=" + msgType + " from rank " + sender + " (expected type=" +
                type + (onlyFrom >= 0 ? " from root " + onlyFrom : "") + ", duplicate=" +
                (received[sender] != null) + ")");
        }
        final byte[] payload = new byte[length];
        buffer.getBytes(offset, payload);
        received[sender] = payload;
        receivesLeft--;
    }

    @Override
    public boolean isDone()
    {
        return sendsLeft == 0 && receivesLeft == 0;
    }

    @Override
    public boolean bulk()
    {
        return false;
    }

    @Override
    public List<Integer> waitingOn()
    {
        final List<Integer> ranks = new ArrayList<>();
        for (int peer = 0; peer < worldSize; peer++)
        {
            final boolean expected = onlyFrom < 0 ? peer != rank : peer == onlyFrom && peer != rank;
            if (expected && received[peer] == null)
            {
                ranks.add(peer);
            }
        }
        if (ranks.isEmpty())
        {
            for (int peer = 0; peer < worldSize; peer++)
            {
                if (peer != rank && !sent[peer] && sendsLeft > 0)
                {
                    ranks.add(peer);
                }
            }
        }
        return ranks;
    }
}
