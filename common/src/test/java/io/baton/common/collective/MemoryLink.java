package io.baton.common.collective;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A second {@link Link}: ranks as threads of one JVM, a bounded queue of whole messages per (receiver, sender) pair.
 * Keeps the link's contract (per-sender order, a declined message stays first, a fixed session per sender) and has
 * back pressure (a full queue refuses), so the engine and the algorithms run on it unchanged. Not a model of Aeron:
 * nothing is lost or reordered, and a closed rank's queues simply stop being read, as a dead peer's would.
 */
final class MemoryLink implements Link
{
    /** Queues of one world. */
    static final class Network
    {
        private final int worldSize;
        private final int capacity;
        private final Queue<byte[]>[][] queues;
        private final AtomicInteger[][] depth;
        private final AtomicInteger sent = new AtomicInteger();
        private final AtomicInteger refused = new AtomicInteger();
        private final AtomicLong bytes = new AtomicLong();

        /** {@code capacity} messages at most queued from one rank to another. */
        @SuppressWarnings("unchecked")
        Network(final int worldSize, final int capacity)
        {
            this.worldSize = worldSize;
            this.capacity = capacity;
            this.queues = new Queue[worldSize][worldSize];
            this.depth = new AtomicInteger[worldSize][worldSize];
            for (int to = 0; to < worldSize; to++)
            {
                for (int from = 0; from < worldSize; from++)
                {
                    queues[to][from] = new ConcurrentLinkedQueue<>();
                    depth[to][from] = new AtomicInteger();
                }
            }
        }

        /** Messages taken by offer so far, over all ranks. */
        int sentMessages()
        {
            return sent.get();
        }

        /** Offers refused for a full queue so far (back pressure). */
        int refusedOffers()
        {
            return refused.get();
        }

        /** Bytes of the messages taken so far (header and body), over all ranks. */
        long sentBytes()
        {
            return bytes.get();
        }
    }

    private final Network network;
    private final int rank;
    private final UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    private final MemoryOrigin[] origins;
    private volatile boolean closed;

    MemoryLink(final Network network, final int rank)
    {
        this.network = network;
        this.rank = rank;
        this.origins = new MemoryOrigin[network.worldSize];
        for (int from = 0; from < network.worldSize; from++)
        {
            origins[from] = new MemoryOrigin(from);
        }
    }

    @Override
    public boolean offer(final int peer, final DirectBuffer header, final int headerLength, final Object srcBase,
        final long srcAddress, final int bytes)
    {
        if (closed)
        {
            throw new PeerClosedException("memory link of rank " + rank + " is closed");
        }
        final AtomicInteger depth = network.depth[peer][rank];
        if (depth.get() >= network.capacity)
        {
            network.refused.incrementAndGet();
            return false;
        }
        final byte[] message = new byte[headerLength + bytes];
        header.getBytes(0, message, 0, headerLength);
        if (bytes > 0)
        {
            UnsafeApi.copyMemory(srcBase, srcAddress, message, FloatMath.BYTE_BASE + headerLength, bytes);
        }
        depth.incrementAndGet();
        network.queues[peer][rank].add(message);
        network.sent.incrementAndGet();
        network.bytes.addAndGet(message.length);
        return true;
    }

    @Override
    public int poll(final Receiver receiver, final int limit)
    {
        int work = 0;
        for (int from = 0; from < network.worldSize; from++)
        {
            final Queue<byte[]> queue = network.queues[rank][from];
            for (int n = 0; n < limit; n++)
            {
                final byte[] message = queue.peek();
                if (message == null)
                {
                    break;
                }
                view.wrap(message);
                if (!receiver.onMessage(view, 0, message.length, origins[from]))
                {
                    break;
                }
                queue.poll();
                network.depth[rank][from].decrementAndGet();
                work++;
            }
        }
        return work;
    }

    @Override
    public boolean ipc(final int peer)
    {
        return false;
    }

    @Override
    public void close()
    {
        closed = true;
    }

    /** Each sender's stream has a fixed session. */
    private static final class MemoryOrigin implements Origin
    {
        private final int from;

        MemoryOrigin(final int from)
        {
            this.from = from;
        }

        @Override
        public int sessionId()
        {
            return 7_000 + from;
        }

        @Override
        public boolean ipc()
        {
            return false;
        }

        @Override
        public String sourceIdentity()
        {
            return "memory link of rank " + from;
        }
    }
}
