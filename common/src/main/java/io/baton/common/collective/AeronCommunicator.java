package io.baton.common.collective;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Communicator} over Aeron (UDP unicast or IPC). All work runs on the calling thread: it writes its own
 * messages into the publications' logs and polls its subscriptions (UDP, IPC, or both when some peers share its host
 * and driver and others do not), so no thread of this class outlives a call.
 *
 * <p>Algorithms:
 * <ul>
 *   <li>all-reduce above {@link CollectiveSettings#smallThresholdBytes()}: ring reduce-scatter then all-gather,
 *       split into {@link CollectiveSettings#chunkBytes()} messages and pipelined (a chunk is forwarded as soon as
 *       it arrived); each rank sends 2(N-1)/N x size. Segment c is summed in the fixed order
 *       {@code x_c + x_(c+1) + ... + x_(c-1)} (ranks mod N), then copied, so every rank holds the same bits.
 *       With {@link CollectiveSettings#compression()} FP16 or BF16 the ring sends 2-byte values and accumulates in
 *       float; the segment's owner rounds its sum before the all-gather, so the bits still agree.</li>
 *   <li>small all-reduce, all-gather, barrier: one hop all-to-all; every rank sums the N vectors in rank order
 *       0..N-1 in double precision and rounds once to the element type.</li>
 *   <li>broadcast: a pipelined chain root, root+1, ...; broadcastBytes: root sends to every rank.</li>
 * </ul>
 * AVG is the SUM (rounded to the element type) multiplied by {@code 1/N} of the element type.
 *
 * <p>Every message carries (job hash, generation, sequence, sender). Messages of another job, of a newer
 * generation or not following the protocol are dropped and counted in {@link #droppedForeignMessages()};
 * messages of an older generation in {@link #droppedStaleMessages()}. Messages of a later operation stay in
 * Aeron's log (the poll aborts on them) until this rank reaches that operation, so memory stays bounded:
 * the only buffers beyond Aeron's term buffers are two chunk-sized scratch arrays (three more when compressed).
 *
 * <p>Only the stage's own replicas take part. Every rank holds the stage's {@link StageKey}; the connect handshake
 * is a challenge-response over it: each rank's Hello carries a fresh random nonce and the receiver's nonce as far as
 * it knows it, under an HMAC-SHA256 tag of the whole message (header, job, generation, sender, receiver, layout and
 * both nonces). A Hello that does not verify is refused; one that verifies but does not echo this communicator's own
 * nonce (a first Hello, or a replay) only teaches the sender's nonce. A verified Hello echoing our nonce binds the
 * Aeron session it arrived on to its sender, and from then on that peer's messages are read only from that session:
 * a message on any other session is refused before it can reach an operation. Heartbeats carry a tag as well; data
 * messages are authenticated by their session alone (no per-fragment tag, so the ring's hot path is unchanged).
 * Refused messages are counted in {@link #rejectedMessages()} and logged once per source; they never fail or stall
 * a call. When the ranks hold different keys nobody connects, and connect fails at its deadline naming the ranks
 * whose handshakes did not verify.
 *
 * <p>Heartbeats are sent while a call waits; on timeout the ranks not heard from recently are named as missing
 * (or, when every rank was heard, the ranks this rank was directly waiting on).
 *
 * <p>By concern: {@link AeronLink} is the transport (driver, publications, subscriptions, flush) behind the
 * {@link Link} interface; {@link CollectiveEngine} the duty loop, liveness and message filtering; {@link Handshake},
 * {@link RingAllReduce}, {@link AllToAll} and {@link ChainBroadcast} the algorithms, each an {@link Operation} that
 * sends through a {@link PeerChannel}; {@link FloatMath} the arithmetic; {@link LinkCommunicator} the calls over any
 * link. This class opens the Aeron link and delegates to them.
 */
public final class AeronCommunicator implements Communicator
{
    private static final Logger LOG = LoggerFactory.getLogger(AeronCommunicator.class);
    /** IPC stream ids: one block of this many (one per rank) per job, out of IPC_JOB_SLOTS blocks. */
    private static final int IPC_STREAMS_PER_JOB = 4096;
    private static final int IPC_JOB_SLOTS = 500_000;
    /** Longest wait, after a collective and in {@link #close()}, for frames still in a publication's log to be sent. */
    static final long FLUSH_NS = TimeUnit.MILLISECONDS.toNanos(200);

    private final int rank;
    private final int worldSize;
    private final String jobId;
    private final long generation;
    private final AeronLink link;
    private final LinkCommunicator communicator;

    /**
     * Connects to every peer and exchanges a handshake; returns once all ranks are reachable.
     *
     * @param settings   validated settings (the same on every rank).
     * @param rank       this rank, in [0, peers.size()).
     * @param peers      endpoint of every rank, index = rank (from the rendezvous).
     * @param jobId      identity of the training job; messages of other jobs are dropped.
     * @param generation incarnation of the job (raised on every restart); older generations are dropped.
     * @param key        the stage's secret, the same on every rank: peers that cannot prove it are refused.
     * @throws CollectiveException if a peer does not answer within {@link CollectiveSettings#connectDeadlineNs()},
     *                             or answers with another key (the message names the ranks).
     */
    public AeronCommunicator(
        final CollectiveSettings settings,
        final int rank,
        final List<PeerEndpoint> peers,
        final String jobId,
        final long generation,
        final StageKey key)
    {
        final CollectiveSettings checked = Objects.requireNonNull(settings, "settings").validate();
        final List<PeerEndpoint> endpoints = List.copyOf(Objects.requireNonNull(peers, "peers"));
        this.worldSize = endpoints.size();
        if (worldSize == 0)
        {
            throw new IllegalArgumentException("peers must not be empty");
        }
        if (rank < 0 || rank >= worldSize)
        {
            throw new IllegalArgumentException("rank=" + rank + " outside [0, worldSize=" + worldSize + ")");
        }
        if (jobId == null || jobId.isEmpty())
        {
            throw new IllegalArgumentException("jobId must be a non-empty string, was " + jobId);
        }
        Objects.requireNonNull(key, "key");
        this.rank = rank;
        this.jobId = jobId;
        this.generation = generation;
        this.link = new AeronLink(checked, rank, endpoints, WireFormat.jobHash(jobId));
        this.communicator = new LinkCommunicator(checked, link, rank, worldSize, jobId, generation, key);
        LOG.debug("rank {}/{} of job {} generation {} connected over {}", rank, worldSize, jobId, generation,
            link.transport());
    }

    /**
     * The IPC stream a rank of a job receives on. Each job has its own block of streams: another job on a shared
     * driver must not subscribe to them (an IPC publication advances no faster than its slowest subscriber, and
     * every message would reach both jobs). Generations of one job share it: a relaunched stage finds its
     * predecessor's stragglers there and drops their messages by generation.
     */
    static int ipcStreamId(final CollectiveSettings settings, final long jobHash, final int rank)
    {
        return settings.streamId() + IPC_STREAMS_PER_JOB * (int)Math.floorMod(jobHash, (long)IPC_JOB_SLOTS) + rank;
    }

    static IdleStrategy idleStrategy(final CollectiveSettings settings)
    {
        switch (settings.idle())
        {
            case YIELDING:
                return new YieldingIdleStrategy();
            case SLEEPING:
                return new SleepingIdleStrategy(settings.idleMaxParkNs());
            case BUSY_SPIN:
                return new BusySpinIdleStrategy();
            default:
                return new BackoffIdleStrategy(settings.idleMaxSpins(), settings.idleMaxYields(),
                    settings.idleMinParkNs(), settings.idleMaxParkNs());
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

    /** Transport actually used: UDP, IPC, or MIXED when AUTO reaches some peers over IPC and the others over UDP. */
    public CollectiveSettings.Transport transport()
    {
        return link.transport();
    }

    /** Sequence number the next collective call will carry. */
    public long sequence()
    {
        return communicator.sequence();
    }

    /** Job generation this communicator belongs to. */
    public long generation()
    {
        return generation;
    }

    /** Messages dropped because they came from an older generation of this job. */
    public long droppedStaleMessages()
    {
        return communicator.droppedStaleMessages();
    }

    /** Messages dropped because they came from another job, a newer generation or broke the protocol. */
    public long droppedForeignMessages()
    {
        return communicator.droppedForeignMessages();
    }

    /**
     * Messages refused because they failed authentication: a handshake that does not verify with the stage's key, or
     * is replayed or misaddressed, a heartbeat with a bad tag, or any message on an Aeron session that no
     * authenticated peer holds (a stranger's publication). Each source is also logged once.
     */
    @Override
    public long rejectedMessages()
    {
        return communicator.rejectedMessages();
    }

    /** Aeron directory used (the shared embedded driver's or the external one). */
    public String aeronDirectory()
    {
        return link.aeronDirectory();
    }

    @Override
    public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
    {
        communicator.allReduce(data, offset, length, op);
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        communicator.allReduce(address, floatCount, op);
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        communicator.allReduce(directFloats, op);
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        communicator.allReduceSmall(data, op);
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        communicator.broadcast(data, offset, length, root);
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        communicator.broadcast(address, floatCount, root);
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        return communicator.broadcastBytes(payload, root);
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        return communicator.allGather(payload);
    }

    @Override
    public void barrier()
    {
        communicator.barrier();
    }

    /**
     * Ends the operation in progress (it fails with "communicator closed during the operation") and closes the
     * publications, subscriptions, the Aeron client and the embedded driver reference. Safe from any thread (see
     * {@link LinkCommunicator#close()}). Idempotent.
     */
    @Override
    public void close()
    {
        communicator.close();
    }

    /**
     * As {@link #close()} after a clean end (no operation failed or in progress): on an embedded driver that lingers
     * ({@link CollectiveSettings#embeddedDriverLingerNs()} > 0) an IPC link (every peer on this driver) is parked on
     * the driver, its client, subscription and publications open, and the next communicator of this rank with the
     * same streams and channels (the same job, world and term length: the next stage, e.g. the next fit of a DL4J
     * training master) takes it instead of opening its own, which took most of a connect (~0.2 s per publication of
     * 8 MB terms on a 2-core VM: the log buffer's pages touched by the driver and the client). That communicator
     * still does its own handshake under its own stage key; what the parked link still holds is of an older
     * generation and is dropped. Parked links close with the driver, and all of them when a communicator of this
     * driver opens a link that none matches (an unpolled subscription would hold back its stream's publications).
     * Otherwise, or after a failed operation, as {@link #close()}.
     */
    @Override
    public void closeForReuse()
    {
        communicator.closeForReuse();
    }

    /** The thread that closed the Aeron client, or null while it is open (tests). */
    Thread closedBy()
    {
        return communicator.closedBy();
    }

    /** How long {@link #close()} from another thread waits for the operation in progress to leave (tests). */
    void closeWaitNs(final long waitNs)
    {
        communicator.closeWaitNs(waitNs);
    }

    /** Runs the embedded driver until the publications' frames are sent, within {@link #FLUSH_NS} (tests). */
    void flushPublications()
    {
        link.flush();
    }

    /** {sender position counters found, unsent bytes} of this communicator's publications (tests). */
    long[] sendProgress()
    {
        return link.sendProgress();
    }

    @Override
    public String toString()
    {
        return "AeronCommunicator{rank=" + rank + ", worldSize=" + worldSize + ", job=" + jobId + ", generation=" +
            generation + ", transport=" + link.transport() + ", seq=" + communicator.sequence() + "}";
    }
}
