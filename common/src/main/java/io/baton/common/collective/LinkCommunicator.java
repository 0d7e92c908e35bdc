package io.baton.common.collective;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.agrona.BufferUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Communicator} calls over any {@link Link}: argument checks, the choice of algorithm per call (ring above
 * {@link CollectiveSettings#smallThresholdBytes()}, one-hop all-to-all below, chain broadcast), the arithmetic after a
 * one-hop exchange, the connect handshake in the constructor, and closing from any thread. {@link AeronCommunicator}
 * is this over an {@link AeronLink}; the tests also run it over an in-memory link between threads.
 */
final class LinkCommunicator implements Communicator
{
    private static final Logger LOG = LoggerFactory.getLogger(AeronCommunicator.class);
    private static final long CLOSE_WAIT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final SecureRandom NONCES = new SecureRandom();

    private final CollectiveSettings settings;
    private final Link link;
    private final int rank;
    private final int worldSize;
    private final String jobId;
    private final long generation;
    private final int chunkFloats;
    private final CollectiveSettings.Compression compression;
    /** Values per ring message: chunkFloats, or twice as many 2-byte values when compressed (same message size). */
    private final int ringChunk;
    private final FloatMath math;
    private final CollectiveEngine engine;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final AtomicBoolean resourcesClosed = new AtomicBoolean();
    private volatile long closeWaitNs = CLOSE_WAIT_NS;
    private volatile Thread closedBy;

    /**
     * Connects over {@code link} (which it owns from now on: closed here if connect fails).
     *
     * @throws CollectiveException if a peer does not answer within {@link CollectiveSettings#connectDeadlineNs()},
     *                             or answers with another key (the message names the ranks).
     */
    LinkCommunicator(final CollectiveSettings settings, final Link link, final int rank, final int worldSize,
        final String jobId, final long generation, final StageKey key)
    {
        this.settings = settings;
        this.link = link;
        this.rank = rank;
        this.worldSize = worldSize;
        this.jobId = jobId;
        this.generation = generation;
        this.chunkFloats = settings.chunkFloats();
        this.compression = settings.compression();
        this.ringChunk = chunkFloats * Float.BYTES / compression.wireBytes();
        this.math = new FloatMath(ringChunk);
        final MessageAuth auth = new MessageAuth(key);
        this.engine = new CollectiveEngine(link, rank, worldSize, jobId, generation, auth,
            AeronCommunicator.idleStrategy(settings), settings.operationDeadlineNs(), this::closeResources);
        final byte[] nonce = new byte[Handshake.NONCE_LENGTH];
        NONCES.nextBytes(nonce);
        try
        {
            engine.run("connect", CollectiveEngine.CONNECT_SEQUENCE, new Handshake(engine, link, key, auth, nonce,
                jobId, generation, rank, worldSize, chunkFloats, settings.smallThresholdBytes()),
                settings.connectDeadlineNs());
        }
        catch (final RuntimeException | Error ex)
        {
            closeResources();
            throw ex;
        }
    }

    @Override
    public int rank()
    {
        return rank;
    }

    @Override
    public int worldSize()
    {
        return worldSize;
    }

    long sequence()
    {
        return engine.sequence();
    }

    long droppedStaleMessages()
    {
        return engine.droppedStale();
    }

    long droppedForeignMessages()
    {
        return engine.droppedForeign();
    }

    @Override
    public long rejectedMessages()
    {
        return engine.rejected();
    }

    // ---------------------------------------------------------------------------------------------- operations

    @Override
    public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
    {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(op, "op");
        if (offset < 0 || length < 0 || offset > data.length - length)
        {
            throw new IllegalArgumentException("allReduce range offset=" + offset + " length=" + length +
                " outside float[" + data.length + "]");
        }
        allReduceRegion(data, FloatMath.FLOAT_BASE + (long)offset * Float.BYTES, length, op);
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        Objects.requireNonNull(op, "op");
        allReduceRegion(null, address, checkedCount(address, floatCount), op);
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        Objects.requireNonNull(op, "op");
        if (!directFloats.isDirect())
        {
            throw new IllegalArgumentException("allReduce(ByteBuffer) needs a direct buffer, got " + directFloats);
        }
        final int bytes = directFloats.remaining();
        if (bytes % Float.BYTES != 0)
        {
            throw new IllegalArgumentException("allReduce(ByteBuffer) remaining=" + bytes +
                " is not a multiple of " + Float.BYTES);
        }
        allReduceRegion(null, BufferUtil.address(directFloats) + directFloats.position(), bytes / Float.BYTES, op);
    }

    private static int checkedCount(final long address, final long floatCount)
    {
        if (floatCount < 0 || floatCount > Integer.MAX_VALUE / Float.BYTES * Float.BYTES)
        {
            throw new IllegalArgumentException("floatCount=" + floatCount + " outside [0, " +
                Integer.MAX_VALUE + "]");
        }
        if (floatCount > 0 && address == 0)
        {
            throw new IllegalArgumentException("address=0 with floatCount=" + floatCount);
        }
        return (int)floatCount;
    }

    private void allReduceRegion(final Object base, final long address, final int count, final ReduceOp op)
    {
        final boolean avg = op == ReduceOp.AVG;
        if ((long)count * Float.BYTES > settings.smallThresholdBytes())
        {
            run("allReduce", new RingAllReduce(engine, math, rank, worldSize, ringChunk, base, address, count, avg,
                compression));
        }
        else
        {
            final AllToAll a2a = new AllToAll(engine, rank, worldSize, WireFormat.TYPE_ALL_TO_ALL, base, address,
                count * Float.BYTES);
            run("allReduce", a2a);
            FloatMath.sumInRankOrder(rank, base, address, count, a2a.received(), avg);
        }
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        Objects.requireNonNull(op, "op");
        final AllToAll a2a = new AllToAll(engine, rank, worldSize, WireFormat.TYPE_ALL_TO_ALL, data,
            FloatMath.DOUBLE_BASE, data.length * Double.BYTES);
        run("allReduceSmall", a2a);
        FloatMath.sumSmallInRankOrder(rank, data, a2a.received(), op == ReduceOp.AVG);
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        Objects.requireNonNull(data, "data");
        if (offset < 0 || length < 0 || offset > data.length - length)
        {
            throw new IllegalArgumentException("broadcast range offset=" + offset + " length=" + length +
                " outside float[" + data.length + "]");
        }
        run("broadcast", new ChainBroadcast(engine, rank, worldSize, chunkFloats, data,
            FloatMath.FLOAT_BASE + (long)offset * Float.BYTES, length, checkRoot(root)));
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        run("broadcast", new ChainBroadcast(engine, rank, worldSize, chunkFloats, null, address,
            checkedCount(address, floatCount), checkRoot(root)));
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        checkRoot(root);
        final byte[] bytes = rank == root ? Objects.requireNonNull(payload, "payload on root") : new byte[0];
        final AllToAll op = new AllToAll(engine, rank, worldSize, WireFormat.TYPE_BROADCAST, bytes,
            FloatMath.BYTE_BASE, bytes.length);
        op.onlyFrom(root);
        run("broadcastBytes", op);
        return rank == root ? payload.clone() : op.received()[root];
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        Objects.requireNonNull(payload, "payload");
        final AllToAll op = new AllToAll(engine, rank, worldSize, WireFormat.TYPE_ALL_TO_ALL, payload,
            FloatMath.BYTE_BASE, payload.length);
        run("allGather", op);
        final byte[][] result = op.received();
        result[rank] = payload.clone();
        return result;
    }

    @Override
    public void barrier()
    {
        run("barrier", new AllToAll(engine, rank, worldSize, WireFormat.TYPE_ALL_TO_ALL, null, 0, 0));
    }

    private int checkRoot(final int root)
    {
        if (root < 0 || root >= worldSize)
        {
            throw new IllegalArgumentException("root=" + root + " outside [0, worldSize=" + worldSize + ")");
        }
        return root;
    }

    private void run(final String name, final Operation op)
    {
        engine.run(name, op, settings.operationDeadlineNs());
    }

    // ---------------------------------------------------------------------------------------------- close

    /**
     * Ends the operation in progress (it fails with "communicator closed during the operation") and closes the link.
     * Safe from any thread: the link is closed only by a thread that no operation runs on. Called from another thread
     * while an operation runs, it waits up to {@link #CLOSE_WAIT_NS} for the operation's thread to notice and leave;
     * if that thread is still inside (descheduled, or in a long copy), closing is handed to it, and it closes
     * everything as it leaves the operation, instead of having the link's buffers unmapped under it. Idempotent.
     */
    @Override
    public void close()
    {
        close(false);
    }

    /**
     * As {@link #close()}; the caller's use ended cleanly, so the link may keep its transport for the next one
     * ({@link Link#closeForReuse()}) unless an operation failed or is still in progress.
     */
    @Override
    public void closeForReuse()
    {
        close(true);
    }

    private void close(final boolean reuse)
    {
        if (!closeStarted.compareAndSet(false, true))
        {
            return;
        }
        engine.requestClose();
        final Thread worker = engine.opThread();
        if (worker != null && worker != Thread.currentThread())
        {
            final long deadlineNs = System.nanoTime() + closeWaitNs;
            while (engine.opThread() != null && System.nanoTime() - deadlineNs < 0)
            {
                Thread.onSpinWait();
                Thread.yield();
            }
            if (engine.opThread() != null)
            {
                // Its run() closes the resources in its finally block, after it stopped using them.
                LOG.warn("rank {}: {} is still in a collective {} ms after close(); it closes the communicator when "
                    + "it leaves", rank, worker.getName(), TimeUnit.NANOSECONDS.toMillis(closeWaitNs));
                return;
            }
        }
        closeResources(reuse && worker == null && !engine.failed());
    }

    /** The thread that closed the link, or null while it is open (tests). */
    Thread closedBy()
    {
        return closedBy;
    }

    /** How long {@link #close()} from another thread waits for the operation in progress to leave (tests). */
    void closeWaitNs(final long waitNs)
    {
        closeWaitNs = waitNs;
    }

    private void closeResources()
    {
        closeResources(false);
    }

    private void closeResources(final boolean clean)
    {
        // Once: by close(), by the constructor that failed, or by the operation's thread that close() handed it to.
        if (!resourcesClosed.compareAndSet(false, true))
        {
            return;
        }
        closedBy = Thread.currentThread();
        engine.markClosing();
        if (engine.rejected() > 0)
        {
            LOG.warn("rank {} of job {} generation {} refused {} unauthenticated message(s) in all; dropped {} of " +
                "older generations and {} foreign", rank, jobId, generation, engine.rejected(), engine.droppedStale(),
                engine.droppedForeign());
        }
        if (clean)
        {
            link.closeForReuse();
        }
        else
        {
            link.close();
        }
    }
}
