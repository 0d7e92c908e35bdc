package io.baton.common.collective;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol engine of a communicator, over any {@link Link}: the duty loop that runs one {@link Operation} at a
 * time to its end or its deadline, heartbeats and liveness (who was heard from recently), and the filtering of every
 * received message by job, generation, sender, authenticated session and operation sequence. Messages of a later
 * operation are left in the link (declined) until this rank reaches it. All on the calling thread.
 */
final class CollectiveEngine implements PeerChannel
{
    /** The communicator's log category, so its lines read the same as before the engine was its own class. */
    private static final Logger LOG = LoggerFactory.getLogger(AeronCommunicator.class);
    static final int FRAGMENT_LIMIT = 64;
    static final long CONNECT_SEQUENCE = -1;
    /** At most this many sources of dropped messages are logged (each once); the counters count them all. */
    private static final int MAX_LOGGED_SOURCES = 64;

    private final Link link;
    private final int rank;
    private final int worldSize;
    private final String jobId;
    private final long jobHash;
    private final long generation;
    private final MessageAuth auth;
    private final IdleStrategy idle;
    private final long heartbeatIntervalNs;
    private final long livenessWindowNs;
    private final UnsafeBuffer headerBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(WireFormat.HEADER_LENGTH));
    private final UnsafeBuffer heartbeatBuffer = new UnsafeBuffer(
        ByteBuffer.allocateDirect(WireFormat.HEADER_LENGTH + MessageAuth.TAG_LENGTH));
    /** Per peer: the session its authenticated Hello arrived on; only messages on it are read. */
    private final int[] boundSession;
    private final boolean[] sessionBound;
    private final long[] lastHeardNs;
    private final Set<String> loggedSources = new HashSet<>();
    private final Link.Receiver receiver = this::onMessage;
    private final Runnable closeOnLeave;

    private long sequence;
    private long currentSequence = Long.MIN_VALUE;
    private Operation current;
    private long nowNs;
    private boolean failed;
    private volatile boolean closing;
    private volatile boolean closeRequested;
    private volatile Thread opThread;
    private volatile long droppedStale;
    private volatile long droppedForeign;
    private volatile long rejected;

    /**
     * @param closeOnLeave run by the operation's thread as it leaves an operation during which {@link #requestClose()}
     *                     was called (the communicator hands its closing to that thread).
     */
    CollectiveEngine(
        final Link link,
        final int rank,
        final int worldSize,
        final String jobId,
        final long generation,
        final MessageAuth auth,
        final IdleStrategy idle,
        final long operationDeadlineNs,
        final Runnable closeOnLeave)
    {
        this.link = link;
        this.rank = rank;
        this.worldSize = worldSize;
        this.jobId = jobId;
        this.jobHash = WireFormat.jobHash(jobId);
        this.generation = generation;
        this.auth = auth;
        this.idle = idle;
        this.heartbeatIntervalNs = heartbeatIntervalNs(operationDeadlineNs);
        this.livenessWindowNs = 3 * heartbeatIntervalNs;
        this.boundSession = new int[worldSize];
        this.sessionBound = new boolean[worldSize];
        this.lastHeardNs = new long[worldSize];
        this.closeOnLeave = closeOnLeave;
    }

    /** A tenth of the operation deadline, within [20 ms, 1 s]; a peer silent for three of them counts as missing. */
    static long heartbeatIntervalNs(final long operationDeadlineNs)
    {
        return Math.min(Math.max(operationDeadlineNs / 10, 20_000_000L), 1_000_000_000L);
    }

    // ---------------------------------------------------------------------------------------------- duty loop

    /** True once an operation failed: the communicator must be closed, and nothing of it is kept. */
    boolean failed()
    {
        return failed;
    }

    /** Runs {@code op} as the next operation in sequence, within {@code deadlineNs}. */
    void run(final String name, final Operation op, final long deadlineNs)
    {
        final long seq = sequence;
        run(name, seq, op, deadlineNs);
        sequence = seq + 1;
    }

    /** Runs {@code op} with sequence {@code seq} (the handshake's is {@link #CONNECT_SEQUENCE}). */
    void run(final String name, final long seq, final Operation op, final long deadlineNs)
    {
        if (closing)
        {
            throw failure(name, seq, List.of(), "communicator is closed");
        }
        if (failed)
        {
            throw failure(name, seq, List.of(), "communicator failed in an earlier operation and must be closed");
        }
        final boolean bulk = op.bulk();
        opThread = Thread.currentThread();
        current = op;
        currentSequence = seq;
        final long startNs = System.nanoTime();
        long nextHeartbeatNs = startNs + heartbeatIntervalNs;
        nowNs = startNs;
        if (bulk)
        {
            link.beginBulk();
        }
        try
        {
            if (closing)
            {
                throw failure(name, seq, List.of(), "communicator is closed");
            }
            idle.reset();
            while (!op.isDone())
            {
                int work = op.doSend(name);
                work += link.poll(receiver, FRAGMENT_LIMIT);
                nowNs = System.nanoTime();
                if (nowNs - nextHeartbeatNs >= 0)
                {
                    sendHeartbeats(seq);
                    nextHeartbeatNs = nowNs + heartbeatIntervalNs;
                }
                if (nowNs - startNs >= deadlineNs)
                {
                    throw failure(name, seq, missingRanks(op), "timed out after " +
                        TimeUnit.NANOSECONDS.toMillis(deadlineNs) + " ms waiting for ranks " + missingRanks(op) +
                        op.diagnosis());
                }
                if (closing)
                {
                    throw failure(name, seq, List.of(), "communicator closed during the operation");
                }
                if (work > 0)
                {
                    idle.reset();
                }
                else
                {
                    idle.idle();
                }
            }
            link.flush();
        }
        catch (final CollectiveException ex)
        {
            failed = true;
            throw ex;
        }
        catch (final RuntimeException ex)
        {
            failed = true;
            throw failure(name, seq, List.of(), ex.toString(), ex);
        }
        finally
        {
            if (bulk)
            {
                link.endBulk();
            }
            current = null;
            currentSequence = Long.MIN_VALUE;
            opThread = null;
            if (closing && closeRequested)
            {
                // close() ran meanwhile: it may have handed the closing to this thread (a no-op if it closed).
                closeOnLeave.run();
            }
        }
    }

    private List<Integer> missingRanks(final Operation op)
    {
        final List<Integer> silent = new ArrayList<>();
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank && nowNs - lastHeardNs[peer] > livenessWindowNs)
            {
                silent.add(peer);
            }
        }
        return silent.isEmpty() ? op.waitingOn() : silent;
    }

    private void sendHeartbeats(final long seq)
    {
        WireFormat.encode(heartbeatBuffer, 0, WireFormat.TYPE_HEARTBEAT, jobHash, generation, seq, rank, 0, 0,
            worldSize);
        auth.sign(heartbeatBuffer, 0, WireFormat.HEADER_LENGTH);
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank)
            {
                try
                {
                    link.offer(peer, heartbeatBuffer, WireFormat.HEADER_LENGTH + MessageAuth.TAG_LENGTH, null, 0, 0);
                }
                catch (final Link.PeerClosedException ex)
                {
                    // a heartbeat is best effort: the operation's own sends report a closed stream
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- receiving

    private boolean onMessage(final DirectBuffer buffer, final int offset, final int length, final Link.Origin origin)
    {
        if (!WireFormat.hasMagic(buffer, offset, length) || WireFormat.jobHash(buffer, offset) != jobHash)
        {
            droppedForeign++;
            logOnce(origin, false, "a message of another job or protocol");
            return true;
        }
        final long messageGeneration = WireFormat.generation(buffer, offset);
        if (messageGeneration != generation)
        {
            if (messageGeneration < generation)
            {
                droppedStale++;
            }
            else
            {
                droppedForeign++;
            }
            logOnce(origin, false, "a message of generation " + messageGeneration);
            return true;
        }
        final int sender = WireFormat.sender(buffer, offset);
        final int type = WireFormat.type(buffer, offset);
        if (sender < 0 || sender >= worldSize || sender == rank ||
            (type != WireFormat.TYPE_HELLO && WireFormat.worldSize(buffer, offset) != worldSize))
        {
            droppedForeign++;
            logOnce(origin, false, "a message claiming rank " + sender + " of a world of " +
                WireFormat.worldSize(buffer, offset));
            return true;
        }
        final boolean onBoundSession = isBound(sender, origin);
        if (type == WireFormat.TYPE_HELLO)
        {
            if (current instanceof Handshake)
            {
                ((Handshake)current).onHello(buffer, offset, length, origin, sender);
            }
            else if (!onBoundSession)
            {
                refuse(origin, "a handshake claiming rank " + sender + " after connect");
            }
            return true;
        }
        if (!onBoundSession)
        {
            if (type != WireFormat.TYPE_HEARTBEAT || !auth.verify(buffer, offset, length))
            {
                refuse(origin, "a message claiming rank " + sender + " on a session no authenticated peer holds");
            }
            // else: a peer's heartbeat sent before its handshake bound its session
            return true;
        }
        if (type == WireFormat.TYPE_HEARTBEAT)
        {
            if (auth.verify(buffer, offset, length))
            {
                lastHeardNs[sender] = nowNs;
            }
            else
            {
                refuse(origin, "a heartbeat of rank " + sender + " with a bad tag");
            }
            return true;
        }
        lastHeardNs[sender] = nowNs;
        final long seq = WireFormat.sequence(buffer, offset);
        if (seq > currentSequence)
        {
            return false;
        }
        if (seq < currentSequence || current == null)
        {
            droppedStale++;
            return true;
        }
        current.onMessage(type, sender, WireFormat.step(buffer, offset), WireFormat.index(buffer, offset),
            buffer, offset + WireFormat.HEADER_LENGTH, length - WireFormat.HEADER_LENGTH);
        return true;
    }

    /** True if {@code sender}'s session is bound and {@code origin} is that session. */
    private boolean isBound(final int sender, final Link.Origin origin)
    {
        return sessionBound[sender] && link.ipc(sender) == origin.ipc() && boundSession[sender] == origin.sessionId();
    }

    /** True if a session is bound to {@code sender} (its handshake verified). */
    boolean sessionBound(final int sender)
    {
        return sessionBound[sender];
    }

    /** True if {@code origin} is the session bound to {@code sender}. */
    boolean boundTo(final int sender, final Link.Origin origin)
    {
        return isBound(sender, origin);
    }

    /** From now on only messages on {@code origin}'s session are read as {@code sender}'s. */
    void bindSession(final int sender, final Link.Origin origin)
    {
        sessionBound[sender] = true;
        boundSession[sender] = origin.sessionId();
    }

    /** {@code sender} was heard from now. */
    void heard(final int sender)
    {
        lastHeardNs[sender] = nowNs;
    }

    /** Time of the current duty cycle. */
    long nowNs()
    {
        return nowNs;
    }

    long heartbeatIntervalNs()
    {
        return heartbeatIntervalNs;
    }

    /** Counts and logs (once per source) a message refused because it failed authentication. */
    void refuse(final Link.Origin origin, final String what)
    {
        rejected++;
        logOnce(origin, true, what);
    }

    /** Logs the first message dropped from each source (a UDP sender address, or IPC) and what it was. */
    private void logOnce(final Link.Origin origin, final boolean refused, final String what)
    {
        final String source = origin.sourceIdentity();
        if (loggedSources.size() >= MAX_LOGGED_SOURCES || !loggedSources.add((refused ? "refused " : "") + source))
        {
            return;
        }
        if (refused)
        {
            LOG.warn("rank {} of job {} generation {} refused {} from {} (Aeron session {}); further messages " +
                "refused from there are only counted (rejectedMessages)", rank, jobId, generation, what, source,
                origin.sessionId());
        }
        else
        {
            LOG.info("rank {} of job {} generation {} dropped {} from {} (Aeron session {}); further ones from " +
                "there are only counted", rank, jobId, generation, what, source, origin.sessionId());
        }
    }

    // ---------------------------------------------------------------------------------------------- sending

    @Override
    public boolean trySend(final String name, final int peer, final int type, final int step, final int index,
        final Object srcBase, final long srcAddress, final int bytes)
    {
        WireFormat.encode(headerBuffer, 0, type, jobHash, generation, currentSequence, rank, step, index, worldSize);
        try
        {
            return link.offer(peer, headerBuffer, WireFormat.HEADER_LENGTH, srcBase, srcAddress, bytes);
        }
        catch (final Link.PeerClosedException ex)
        {
            throw failure(name, currentSequence, List.of(peer), ex.getMessage());
        }
    }

    @Override
    public CollectiveException protocol(final String what)
    {
        return failure("protocol", currentSequence, List.of(), what);
    }

    CollectiveException failure(final String name, final long seq, final List<Integer> missing, final String detail)
    {
        return failure(name, seq, missing, detail, null);
    }

    CollectiveException failure(final String name, final long seq, final List<Integer> missing,
        final String detail, final Throwable cause)
    {
        return new CollectiveException(name, seq, missing, name + " seq=" + seq + " worldSize=" + worldSize +
            " rank=" + rank + " job=" + jobId + " generation=" + generation + ": " + detail, cause);
    }

    // ---------------------------------------------------------------------------------------------- state

    /** Sequence number the next operation will carry. */
    long sequence()
    {
        return sequence;
    }

    long jobHash()
    {
        return jobHash;
    }

    long droppedStale()
    {
        return droppedStale;
    }

    long droppedForeign()
    {
        return droppedForeign;
    }

    long rejected()
    {
        return rejected;
    }

    /** The thread inside an operation, or null. */
    Thread opThread()
    {
        return opThread;
    }

    /** close() was called: the operation in progress fails, and its thread runs closeOnLeave as it leaves. */
    void requestClose()
    {
        closeRequested = true;
        closing = true;
    }

    /** The resources are being closed: no operation may start or go on. */
    void markClosing()
    {
        closing = true;
    }
}
