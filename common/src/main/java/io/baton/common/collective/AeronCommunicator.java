package io.baton.common.collective;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ObjIntConsumer;

import io.aeron.Aeron;
import io.aeron.AeronCounters;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import io.aeron.logbuffer.Header;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.LangUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.agrona.concurrent.status.CountersReader;
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
 *       {@code x_c + x_(c+1) + ... + x_(c-1)} (ranks mod N), then copied, so every rank holds the same bits.</li>
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
 * the only buffers beyond Aeron's term buffers are two chunk-sized scratch arrays.
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
 */
public final class AeronCommunicator implements Communicator
{
    private static final Logger LOG = LoggerFactory.getLogger(AeronCommunicator.class);
    private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
    private static final long DOUBLE_BASE = UnsafeApi.arrayBaseOffset(double[].class);
    private static final long BYTE_BASE = UnsafeApi.arrayBaseOffset(byte[].class);
    private static final int FRAGMENT_LIMIT = 64;
    private static final long CONNECT_SEQUENCE = -1;
    private static final long CLOSE_WAIT_NS = TimeUnit.SECONDS.toNanos(5);
    /** IPC stream ids: one block of this many (one per rank) per job, out of IPC_JOB_SLOTS blocks. */
    private static final int IPC_STREAMS_PER_JOB = 4096;
    private static final int IPC_JOB_SLOTS = 500_000;
    private static final int NONCE_LENGTH = 16;
    /** Bytes of the sender's key fingerprint in front of a Hello's body (diagnostics only: not trusted). */
    private static final int FINGERPRINT_LENGTH = 4;
    /** At most this many sources of dropped messages are logged (each once); the counters count them all. */
    private static final int MAX_LOGGED_SOURCES = 64;
    private static final SecureRandom NONCES = new SecureRandom();
    /** Longest wait, after a collective and in {@link #close()}, for frames still in a publication's log to be sent. */
    static final long FLUSH_NS = TimeUnit.MILLISECONDS.toNanos(200);

    private final CollectiveSettings settings;
    private final int rank;
    private final int worldSize;
    private final String jobId;
    private final long jobHash;
    private final long generation;
    private final List<PeerEndpoint> peers;
    private final CollectiveSettings.Transport transport;
    /** Per peer: true if this rank talks to it over IPC (same host and driver), false for UDP. */
    private final boolean[] ipcPeer;
    private final int chunkFloats;
    private final long heartbeatIntervalNs;
    private final long livenessWindowNs;
    private final IdleStrategy idle;
    private final BufferClaim claim = new BufferClaim();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(4096);
    private final UnsafeBuffer heartbeatBuffer = new UnsafeBuffer(
        ByteBuffer.allocateDirect(WireFormat.HEADER_LENGTH + MessageAuth.TAG_LENGTH));
    private final StageKey key;
    private final MessageAuth auth;
    /** This communicator's handshake nonce: a Hello that echoes it was made for this connect, not replayed. */
    private final byte[] nonce = new byte[NONCE_LENGTH];
    /** Per peer: the Aeron session its authenticated Hello arrived on; only messages on it are read. */
    private final int[] boundSession;
    private final boolean[] sessionBound;
    private final Set<String> loggedSources = new HashSet<>();
    private final ExclusivePublication[] publications;
    /** Per peer: the driver's sender position counter of the publication to it, once found. */
    private final int[] senderPositionIds;
    private final long[] lastHeardNs;
    private final float[] scratchReceived;
    private final float[] scratchLocal;
    private final ControlledFragmentAssembler assembler;
    private final ControlledFragmentAssembler ipcAssembler;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final AtomicBoolean resourcesClosed = new AtomicBoolean();
    private volatile long closeWaitNs = CLOSE_WAIT_NS;
    private volatile Thread closedBy;

    private boolean driverAcquired;
    private String aeronDirectory;
    private Aeron aeron;
    /** UDP subscription (null if every peer is reached over IPC). */
    private Subscription subscription;
    /** IPC subscription (null if no peer shares this rank's host and driver). */
    private Subscription ipcSubscription;

    private long sequence;
    private long currentSequence = Long.MIN_VALUE;
    private Operation current;
    private long nowNs;
    private boolean failed;
    private volatile boolean closing;
    private volatile Thread opThread;
    private volatile long droppedStale;
    private volatile long droppedForeign;
    private volatile long rejected;

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
        this.settings = Objects.requireNonNull(settings, "settings").validate();
        this.peers = List.copyOf(Objects.requireNonNull(peers, "peers"));
        this.worldSize = this.peers.size();
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
        this.rank = rank;
        this.key = Objects.requireNonNull(key, "key");
        this.auth = new MessageAuth(key);
        NONCES.nextBytes(nonce);
        this.jobId = jobId;
        this.jobHash = WireFormat.jobHash(jobId);
        this.generation = generation;
        this.ipcPeer = resolvePeerTransports(settings, rank, this.peers);
        this.transport = summarise(settings, ipcPeer);
        this.chunkFloats = settings.chunkFloats();
        this.heartbeatIntervalNs = Math.min(Math.max(settings.operationDeadlineNs() / 10, 20_000_000L),
            1_000_000_000L);
        this.livenessWindowNs = 3 * heartbeatIntervalNs;
        this.idle = idleStrategy(settings);
        this.publications = new ExclusivePublication[worldSize];
        this.senderPositionIds = new int[worldSize];
        Arrays.fill(senderPositionIds, CountersReader.NULL_COUNTER_ID);
        this.lastHeardNs = new long[worldSize];
        this.boundSession = new int[worldSize];
        this.sessionBound = new boolean[worldSize];
        this.scratchReceived = new float[chunkFloats];
        this.scratchLocal = new float[chunkFloats];
        this.assembler = new ControlledFragmentAssembler(
            (buffer, offset, length, header) -> onFragment(buffer, offset, length, header, false));
        this.ipcAssembler = new ControlledFragmentAssembler(
            (buffer, offset, length, header) -> onFragment(buffer, offset, length, header, true));
        try
        {
            openTransport();
            connect();
        }
        catch (final RuntimeException | Error ex)
        {
            closeResources();
            throw ex;
        }
    }

    /**
     * IPC to each peer that shares this rank's host and driver (AUTO), to all peers (IPC: they must all share it),
     * or to none (UDP). Symmetric: two ranks agree on the transport between them, so each receives on the
     * subscription the other publishes to.
     */
    private static boolean[] resolvePeerTransports(
        final CollectiveSettings settings, final int rank, final List<PeerEndpoint> peers)
    {
        final PeerEndpoint self = peers.get(rank);
        final boolean selfIsLocal = self.driverId().equals(PeerEndpoint.localDriverId(settings));
        final boolean[] ipc = new boolean[peers.size()];
        boolean all = true;
        for (int peer = 0; peer < peers.size(); peer++)
        {
            if (peer != rank)
            {
                ipc[peer] = selfIsLocal && peers.get(peer).host().equals(self.host()) &&
                    peers.get(peer).driverId().equals(self.driverId());
                all &= ipc[peer];
            }
        }
        switch (settings.transport())
        {
            case IPC:
                if (!all || !selfIsLocal)
                {
                    throw new IllegalArgumentException("transport=IPC but not every peer shares this host and " +
                        "driver: self=" + self + " peers=" + peers);
                }
                return ipc;
            case UDP:
                return new boolean[peers.size()];
            default:
                return ipc;
        }
    }

    /** UDP if set so; else IPC if every peer is reached over IPC (a world of one included), UDP if none, else MIXED. */
    private static CollectiveSettings.Transport summarise(final CollectiveSettings settings, final boolean[] ipcPeer)
    {
        if (settings.transport() == CollectiveSettings.Transport.UDP)
        {
            return CollectiveSettings.Transport.UDP;
        }
        int ipc = 0;
        for (final boolean peer : ipcPeer)
        {
            ipc += peer ? 1 : 0;
        }
        if (ipc == ipcPeer.length - 1)
        {
            return CollectiveSettings.Transport.IPC;
        }
        return ipc == 0 ? CollectiveSettings.Transport.UDP : CollectiveSettings.Transport.MIXED;
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

    private void openTransport()
    {
        if (settings.driverMode() == CollectiveSettings.DriverMode.SHARED)
        {
            // Registered (subscription and publications added) before the lease releases the directory's lock, so
            // the shared driver cannot exit for want of clients in between.
            try (SharedDriver.Lease lease = SharedDriver.acquire(settings))
            {
                aeronDirectory = lease.directory().getPath();
                openTransportOnDriver();
            }
            return;
        }
        if (settings.driverMode() == CollectiveSettings.DriverMode.EMBEDDED)
        {
            aeronDirectory = EmbeddedDriver.acquire(settings);
            driverAcquired = true;
        }
        else
        {
            aeronDirectory = settings.externalDriverDirectory();
        }
        openTransportOnDriver();
    }

    private void openTransportOnDriver()
    {
        aeron = Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(aeronDirectory)
            .preTouchMappedMemory(true)
            .errorHandler((ex) -> LOG.warn("rank {} Aeron client: {}", rank, ex.toString()))
            .subscriberErrorHandler(LangUtil::rethrowUnchecked));
        if (transport != CollectiveSettings.Transport.IPC)
        {
            subscription = aeron.addSubscription("aeron:udp?endpoint=" + settings.bindHost() + ":" +
                peers.get(rank).port() + "|rcv-wnd=" + settings.receiveWindowLength() +
                (settings.socketReceiveBufferLength() > 0 ? "|so-rcvbuf=" + settings.socketReceiveBufferLength() :
                ""), settings.streamId());
        }
        if (transport != CollectiveSettings.Transport.UDP)
        {
            ipcSubscription = aeron.addSubscription("aeron:ipc", ipcStreamId(settings, jobHash, rank));
        }
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank)
            {
                final String params = "term-length=" + settings.termLength() + "|mtu=" + settings.mtuLength() +
                    "|sparse=false";
                final String channel = ipcPeer[peer] ? "aeron:ipc?" + params : "aeron:udp?endpoint=" +
                    peers.get(peer).host() + ":" + peers.get(peer).port() + "|" + params +
                    (settings.socketSendBufferLength() > 0 ? "|so-sndbuf=" + settings.socketSendBufferLength() : "");
                publications[peer] = aeron.addExclusivePublication(
                    channel, ipcPeer[peer] ? ipcStreamId(settings, jobHash, peer) : settings.streamId());
            }
        }
    }

    private void connect()
    {
        run("connect", CONNECT_SEQUENCE, new Connect(new ControlCodec()), settings.connectDeadlineNs());
        LOG.debug("rank {}/{} of job {} generation {} connected over {}", rank, worldSize, jobId, generation,
            transport);
    }

    private void checkHello(final int peer, final ControlCodec.Hello h)
    {
        checkSame("connect", peer, "jobId", h.jobId, jobId);
        checkSame("connect", peer, "rank", h.rank, peer);
        checkSame("connect", peer, "worldSize", h.worldSize, worldSize);
        checkSame("connect", peer, "chunkFloats", h.chunkFloats, chunkFloats);
        checkSame("connect", peer, "smallThresholdBytes", h.smallThresholdBytes, settings.smallThresholdBytes());
        if (h.nonce == null || h.nonce.length != NONCE_LENGTH)
        {
            throw failure("connect", CONNECT_SEQUENCE, List.of(), "rank " + peer + " sent a Hello without a nonce");
        }
    }

    private void checkSame(final String op, final int peer, final String what, final Object theirs,
        final Object mine)
    {
        if (!Objects.equals(theirs, mine))
        {
            throw failure(op, CONNECT_SEQUENCE, List.of(), "rank " + peer + " has " + what + "=" + theirs +
                ", but rank " + rank + " has " + what + "=" + mine);
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
        return transport;
    }

    /** Sequence number the next collective call will carry. */
    public long sequence()
    {
        return sequence;
    }

    /** Job generation this communicator belongs to. */
    public long generation()
    {
        return generation;
    }

    /** Messages dropped because they came from an older generation of this job. */
    public long droppedStaleMessages()
    {
        return droppedStale;
    }

    /** Messages dropped because they came from another job, a newer generation or broke the protocol. */
    public long droppedForeignMessages()
    {
        return droppedForeign;
    }

    /**
     * Messages refused because they failed authentication: a handshake that does not verify with the stage's key, or
     * is replayed or misaddressed, a heartbeat with a bad tag, or any message on an Aeron session that no
     * authenticated peer holds (a stranger's publication). Each source is also logged once.
     */
    @Override
    public long rejectedMessages()
    {
        return rejected;
    }

    /** Aeron directory used (the shared embedded driver's or the external one). */
    public String aeronDirectory()
    {
        return aeronDirectory;
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
        allReduceRegion(data, FLOAT_BASE + (long)offset * Float.BYTES, length, op);
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
            run("allReduce", new Ring(base, address, count, avg));
        }
        else
        {
            final AllToAll a2a = new AllToAll(WireFormat.TYPE_ALL_TO_ALL, base, address, count * Float.BYTES);
            run("allReduce", a2a);
            sumInRankOrder(base, address, count, a2a.received, avg);
        }
    }

    /**
     * data[i] = (float)(x_0[i] + x_1[i] + ... + x_(N-1)[i]) summed in double in rank order ({@code x_rank} is the
     * local data), then x 1/N for AVG. Plain array loops: element-wise Unsafe reads from the received byte arrays
     * cost ~10 ns per float (measured: 64 KB took 260 us), array loops ~1 ns.
     */
    private void sumInRankOrder(final Object base, final long address, final int count, final byte[][] received,
        final boolean avg)
    {
        final long bytes = (long)count * Float.BYTES;
        final float[][] parts = new float[worldSize][];
        for (int r = 0; r < worldSize; r++)
        {
            parts[r] = new float[count];
            if (r == rank)
            {
                UnsafeApi.copyMemory(base, address, parts[r], FLOAT_BASE, bytes);
            }
            else
            {
                UnsafeApi.copyMemory(received[r], BYTE_BASE, parts[r], FLOAT_BASE, bytes);
            }
        }
        final float[] out = parts[rank];
        final float scale = 1.0f / worldSize;
        for (int i = 0; i < count; i++)
        {
            double sum = 0;
            for (int r = 0; r < worldSize; r++)
            {
                sum += parts[r][i];
            }
            final float value = (float)sum;
            out[i] = avg ? value * scale : value;
        }
        UnsafeApi.copyMemory(out, FLOAT_BASE, base, address, bytes);
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        Objects.requireNonNull(op, "op");
        final AllToAll a2a = new AllToAll(WireFormat.TYPE_ALL_TO_ALL, data, DOUBLE_BASE, data.length * Double.BYTES);
        run("allReduceSmall", a2a);
        final double scale = 1.0 / worldSize;
        for (int i = 0; i < data.length; i++)
        {
            double sum = 0;
            for (int r = 0; r < worldSize; r++)
            {
                sum += r == rank ? data[i] : UnsafeApi.getDouble(a2a.received[r], BYTE_BASE + (long)i * Double.BYTES);
            }
            data[i] = op == ReduceOp.AVG ? sum * scale : sum;
        }
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
        run("broadcast", new Chain(data, FLOAT_BASE + (long)offset * Float.BYTES, length, checkRoot(root)));
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        run("broadcast", new Chain(null, address, checkedCount(address, floatCount), checkRoot(root)));
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        checkRoot(root);
        final byte[] bytes = rank == root ? Objects.requireNonNull(payload, "payload on root") : new byte[0];
        final AllToAll op = new AllToAll(WireFormat.TYPE_BROADCAST, bytes, BYTE_BASE, bytes.length);
        op.onlyFrom(root);
        run("broadcastBytes", op);
        return rank == root ? payload.clone() : op.received[root];
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        Objects.requireNonNull(payload, "payload");
        final AllToAll op = new AllToAll(WireFormat.TYPE_ALL_TO_ALL, payload, BYTE_BASE, payload.length);
        run("allGather", op);
        final byte[][] result = op.received;
        result[rank] = payload.clone();
        return result;
    }

    @Override
    public void barrier()
    {
        run("barrier", new AllToAll(WireFormat.TYPE_ALL_TO_ALL, null, 0, 0));
    }

    private int checkRoot(final int root)
    {
        if (root < 0 || root >= worldSize)
        {
            throw new IllegalArgumentException("root=" + root + " outside [0, worldSize=" + worldSize + ")");
        }
        return root;
    }

    // ---------------------------------------------------------------------------------------------- duty loop

    private void run(final String name, final Operation op)
    {
        final long seq = sequence;
        run(name, seq, op, settings.operationDeadlineNs());
        sequence = seq + 1;
    }

    private void run(final String name, final long seq, final Operation op, final long deadlineNs)
    {
        if (closing)
        {
            throw failure(name, seq, List.of(), "communicator is closed");
        }
        if (failed)
        {
            throw failure(name, seq, List.of(), "communicator failed in an earlier operation and must be closed");
        }
        final boolean bulk = driverAcquired && !(op instanceof AllToAll);
        opThread = Thread.currentThread();
        current = op;
        currentSequence = seq;
        final long startNs = System.nanoTime();
        long nextHeartbeatNs = startNs + heartbeatIntervalNs;
        nowNs = startNs;
        if (bulk)
        {
            EmbeddedDriver.beginBulk();
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
                if (driverAcquired)
                {
                    work += EmbeddedDriver.invoke();
                }
                if (subscription != null)
                {
                    work += subscription.controlledPoll(assembler, FRAGMENT_LIMIT);
                }
                if (ipcSubscription != null)
                {
                    work += ipcSubscription.controlledPoll(ipcAssembler, FRAGMENT_LIMIT);
                }
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
            flushPublications();
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
                EmbeddedDriver.endBulk();
            }
            current = null;
            currentSequence = Long.MIN_VALUE;
            opThread = null;
            if (closing && closeStarted.get())
            {
                // close() ran meanwhile: it may have handed the closing to this thread (a no-op if it closed).
                closeResources();
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
        for (final ExclusivePublication publication : publications)
        {
            if (publication != null)
            {
                publication.offer(heartbeatBuffer, 0, WireFormat.HEADER_LENGTH + MessageAuth.TAG_LENGTH);
            }
        }
    }

    private Action onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header,
        final boolean ipc)
    {
        if (!WireFormat.hasMagic(buffer, offset, length) || WireFormat.jobHash(buffer, offset) != jobHash)
        {
            droppedForeign++;
            logOnce(header, false, "a message of another job or protocol");
            return Action.CONTINUE;
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
            logOnce(header, false, "a message of generation " + messageGeneration);
            return Action.CONTINUE;
        }
        final int sender = WireFormat.sender(buffer, offset);
        final int type = WireFormat.type(buffer, offset);
        if (sender < 0 || sender >= worldSize || sender == rank ||
            (type != WireFormat.TYPE_HELLO && WireFormat.worldSize(buffer, offset) != worldSize))
        {
            droppedForeign++;
            logOnce(header, false, "a message claiming rank " + sender + " of a world of " +
                WireFormat.worldSize(buffer, offset));
            return Action.CONTINUE;
        }
        final boolean onBoundSession = sessionBound[sender] && ipcPeer[sender] == ipc &&
            boundSession[sender] == header.sessionId();
        if (type == WireFormat.TYPE_HELLO)
        {
            if (current instanceof Connect)
            {
                ((Connect)current).onHello(buffer, offset, length, header, ipc, sender);
            }
            else if (!onBoundSession)
            {
                refuse(header, "a handshake claiming rank " + sender + " after connect");
            }
            return Action.CONTINUE;
        }
        if (!onBoundSession)
        {
            if (type != WireFormat.TYPE_HEARTBEAT || !auth.verify(buffer, offset, length))
            {
                refuse(header, "a message claiming rank " + sender + " on a session no authenticated peer holds");
            }
            // else: a peer's heartbeat sent before its handshake bound its session
            return Action.CONTINUE;
        }
        if (type == WireFormat.TYPE_HEARTBEAT)
        {
            if (auth.verify(buffer, offset, length))
            {
                lastHeardNs[sender] = nowNs;
            }
            else
            {
                refuse(header, "a heartbeat of rank " + sender + " with a bad tag");
            }
            return Action.CONTINUE;
        }
        lastHeardNs[sender] = nowNs;
        final long seq = WireFormat.sequence(buffer, offset);
        if (seq > currentSequence)
        {
            return Action.ABORT;
        }
        if (seq < currentSequence || current == null)
        {
            droppedStale++;
            return Action.CONTINUE;
        }
        current.onMessage(type, sender, WireFormat.step(buffer, offset), WireFormat.index(buffer, offset),
            buffer, offset + WireFormat.HEADER_LENGTH, length - WireFormat.HEADER_LENGTH);
        return Action.CONTINUE;
    }

    private void refuse(final Header header, final String what)
    {
        rejected++;
        logOnce(header, true, what);
    }

    /** Logs the first message dropped from each source (a UDP sender address, or IPC) and what it was. */
    private void logOnce(final Header header, final boolean refused, final String what)
    {
        final Object context = header.context();
        final String source = context instanceof Image ? ((Image)context).sourceIdentity() : "unknown source";
        if (loggedSources.size() >= MAX_LOGGED_SOURCES || !loggedSources.add((refused ? "refused " : "") + source))
        {
            return;
        }
        if (refused)
        {
            LOG.warn("rank {} of job {} generation {} refused {} from {} (Aeron session {}); further messages " +
                "refused from there are only counted (rejectedMessages)", rank, jobId, generation, what, source,
                header.sessionId());
        }
        else
        {
            LOG.info("rank {} of job {} generation {} dropped {} from {} (Aeron session {}); further ones from " +
                "there are only counted", rank, jobId, generation, what, source, header.sessionId());
        }
    }

    /**
     * Writes one message (header + {@code bytes} read from {@code srcBase/srcAddress}) to {@code peer}.
     *
     * @return false when back pressured or not yet connected (retry later).
     */
    private boolean trySend(
        final String name,
        final int peer,
        final int type,
        final int step,
        final int index,
        final Object srcBase,
        final long srcAddress,
        final int bytes)
    {
        final ExclusivePublication publication = publications[peer];
        final int length = WireFormat.HEADER_LENGTH + bytes;
        final long result;
        if (length <= publication.maxPayloadLength())
        {
            result = publication.tryClaim(length, claim);
            if (result > 0)
            {
                final UnsafeBuffer buffer = (UnsafeBuffer)claim.buffer();
                final int offset = claim.offset();
                WireFormat.encode(buffer, offset, type, jobHash, generation, currentSequence, rank, step, index,
                    worldSize);
                if (bytes > 0)
                {
                    UnsafeApi.copyMemory(srcBase, srcAddress, buffer.byteArray(),
                        buffer.addressOffset() + offset + WireFormat.HEADER_LENGTH, bytes);
                }
                claim.commit();
                return true;
            }
        }
        else
        {
            if (length > publication.maxMessageLength())
            {
                throw new IllegalArgumentException(name + " message of " + length + " bytes exceeds maxMessageLength=" +
                    publication.maxMessageLength() + " (termLength=" + settings.termLength() + ")");
            }
            sendBuffer.checkLimit(length);
            WireFormat.encode(sendBuffer, 0, type, jobHash, generation, currentSequence, rank, step, index,
                worldSize);
            UnsafeApi.copyMemory(srcBase, srcAddress, null, sendBuffer.addressOffset() + WireFormat.HEADER_LENGTH,
                bytes);
            result = publication.offer(sendBuffer, 0, length);
            if (result > 0)
            {
                return true;
            }
        }
        if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
        {
            throw failure(name, currentSequence, List.of(peer), "publication to rank " + peer + " " +
                Publication.errorString(result));
        }
        return false;
    }

    private CollectiveException failure(final String name, final long seq, final List<Integer> missing,
        final String detail)
    {
        return failure(name, seq, missing, detail, null);
    }

    private CollectiveException failure(final String name, final long seq, final List<Integer> missing,
        final String detail, final Throwable cause)
    {
        return new CollectiveException(name, seq, missing, name + " seq=" + seq + " worldSize=" + worldSize +
            " rank=" + rank + " job=" + jobId + " generation=" + generation + ": " + detail, cause);
    }

    private CollectiveException protocol(final String what)
    {
        return failure("protocol", currentSequence, List.of(), what);
    }

    // ---------------------------------------------------------------------------------------------- data movement

    /** dst[0, count) += floats of src (received), as local + received, through chunk-sized heap scratch. */
    private void addReceived(final Object dstBase, final long dstAddress, final DirectBuffer src, final int srcOffset,
        final int count)
    {
        final long bytes = (long)count * Float.BYTES;
        UnsafeApi.copyMemory(src.byteArray(), src.addressOffset() + srcOffset, scratchReceived, FLOAT_BASE, bytes);
        final float[] received = scratchReceived;
        if (dstBase instanceof float[])
        {
            final float[] dst = (float[])dstBase;
            final int start = (int)((dstAddress - FLOAT_BASE) / Float.BYTES);
            for (int i = 0; i < count; i++)
            {
                dst[start + i] += received[i];
            }
        }
        else
        {
            final float[] local = scratchLocal;
            UnsafeApi.copyMemory(null, dstAddress, local, FLOAT_BASE, bytes);
            for (int i = 0; i < count; i++)
            {
                local[i] += received[i];
            }
            UnsafeApi.copyMemory(local, FLOAT_BASE, null, dstAddress, bytes);
        }
    }

    private static void copyReceived(final Object dstBase, final long dstAddress, final DirectBuffer src,
        final int srcOffset, final int count)
    {
        UnsafeApi.copyMemory(src.byteArray(), src.addressOffset() + srcOffset, dstBase, dstAddress,
            (long)count * Float.BYTES);
    }

    private static void scale(final Object base, final long address, final int count, final float factor)
    {
        if (base instanceof float[])
        {
            final float[] data = (float[])base;
            final int start = (int)((address - FLOAT_BASE) / Float.BYTES);
            for (int i = 0; i < count; i++)
            {
                data[start + i] *= factor;
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                final long a = address + (long)i * Float.BYTES;
                UnsafeApi.putFloat(null, a, UnsafeApi.getFloat(null, a) * factor);
            }
        }
    }

    private interface Operation
    {
        /** Sends what can be sent now; returns the number of messages sent. */
        int doSend(String name);

        /** Consumes a message of the current sequence. */
        void onMessage(int type, int sender, int step, int index, DirectBuffer buffer, int offset, int length);

        boolean isDone();

        /** Ranks this rank still needs something from (or cannot send to). */
        List<Integer> waitingOn();

        /** What a timeout's message should add beyond the waiting ranks ("" if nothing). */
        default String diagnosis()
        {
            return "";
        }
    }

    /**
     * Handshake: every rank sends its Hello to every peer until that peer confirms it. A publication may count as
     * connected, and take the Hello, before the peer's own subscription has joined it (an IPC subscription of an
     * older generation on the same stream in this driver, or an image that joined after the message), so one send
     * is not enough. A Hello counts only when its tag verifies and it echoes this rank's nonce (see the class
     * comment); a verified Hello that does not echo it teaches the sender's nonce and is answered. A Hello's step is
     * 1 when its sender holds the receiver's Hello (the confirmation); its index is 1 while its sender still waits
     * for the receiver's confirmation, and the receiver then answers with a Hello of step 1. The Hello is sent again
     * every {@link #helloResendNs} until confirmed. Done when every peer's Hello arrived, every peer confirmed ours
     * and every answer owed is sent: a peer that still waits then has an answer on a stream it already reads (it
     * holds one of our messages), so it does not depend on our resending.
     *
     * <p>Hello message body: the sender's key fingerprint ({@link #FINGERPRINT_LENGTH} bytes, for the diagnosis of
     * different keys only), the Kryo {@link ControlCodec.Hello}, then the tag of the header and both.
     */
    private final class Connect implements Operation
    {
        private final ControlCodec codec;
        private final byte[] fingerprint = HexFormat.of().parseHex(key.fingerprint());
        private final UnsafeBuffer header = new UnsafeBuffer(new byte[WireFormat.HEADER_LENGTH]);
        private final byte[][] peerNonce = new byte[worldSize][];
        private final boolean[] received = new boolean[worldSize];
        private final boolean[] confirmed = new boolean[worldSize];
        private final boolean[] answerOwed = new boolean[worldSize];
        private final long[] lastSentNs = new long[worldSize];
        private final boolean[] sentOnce = new boolean[worldSize];
        /** Per claimed sender: Hellos that did not verify, and the key fingerprint the last one claimed. */
        private final long[] unverified = new long[worldSize];
        private final String[] claimedFingerprint = new String[worldSize];
        private final long helloResendNs = Math.min(heartbeatIntervalNs, TimeUnit.MILLISECONDS.toNanos(50));

        Connect(final ControlCodec codec)
        {
            this.codec = codec;
        }

        @Override
        public int doSend(final String name)
        {
            int work = 0;
            for (int i = 1; i < worldSize; i++)
            {
                final int peer = (rank + i) % worldSize;
                final boolean resend = !confirmed[peer] &&
                    (!sentOnce[peer] || nowNs - lastSentNs[peer] >= helloResendNs);
                if (answerOwed[peer] || resend)
                {
                    final int step = received[peer] ? 1 : 0;
                    final int index = confirmed[peer] ? 0 : 1;
                    final byte[] hello = hello(peer, step, index);
                    if (trySend(name, peer, WireFormat.TYPE_HELLO, step, index, hello, BYTE_BASE, hello.length))
                    {
                        answerOwed[peer] = false;
                        sentOnce[peer] = true;
                        lastSentNs[peer] = nowNs;
                        work++;
                    }
                }
            }
            return work;
        }

        /** The body of the Hello to {@code peer} sent with this step and index in its header, tag included. */
        private byte[] hello(final int peer, final int step, final int index)
        {
            final byte[] encoded = codec.encode(new ControlCodec.Hello(jobId, generation, rank, peer, worldSize,
                chunkFloats, settings.smallThresholdBytes(), nonce,
                peerNonce[peer] == null ? new byte[0] : peerNonce[peer]));
            final byte[] body = new byte[FINGERPRINT_LENGTH + encoded.length + MessageAuth.TAG_LENGTH];
            System.arraycopy(fingerprint, 0, body, 0, FINGERPRINT_LENGTH);
            System.arraycopy(encoded, 0, body, FINGERPRINT_LENGTH, encoded.length);
            WireFormat.encode(header, 0, WireFormat.TYPE_HELLO, jobHash, generation, CONNECT_SEQUENCE, rank, step,
                index, worldSize);
            final byte[] tag = auth.tag(header, WireFormat.HEADER_LENGTH,
                Arrays.copyOf(body, FINGERPRINT_LENGTH + encoded.length));
            System.arraycopy(tag, 0, body, FINGERPRINT_LENGTH + encoded.length, MessageAuth.TAG_LENGTH);
            return body;
        }

        /** A Hello claiming {@code sender}, whole message at {@code buffer[offset, offset + length)}. */
        void onHello(final DirectBuffer buffer, final int offset, final int length, final Header aeronHeader,
            final boolean ipc, final int sender)
        {
            final int bodyLength = length - WireFormat.HEADER_LENGTH - MessageAuth.TAG_LENGTH;
            if (bodyLength < FINGERPRINT_LENGTH || !auth.verify(buffer, offset, length))
            {
                unverified[sender]++;
                if (bodyLength >= FINGERPRINT_LENGTH)
                {
                    final byte[] claimed = new byte[FINGERPRINT_LENGTH];
                    buffer.getBytes(offset + WireFormat.HEADER_LENGTH, claimed);
                    claimedFingerprint[sender] = HexFormat.of().formatHex(claimed);
                }
                refuse(aeronHeader, "a handshake claiming rank " + sender + " that does not verify with this " +
                    "stage's key");
                return;
            }
            final byte[] encoded = new byte[bodyLength - FINGERPRINT_LENGTH];
            buffer.getBytes(offset + WireFormat.HEADER_LENGTH + FINGERPRINT_LENGTH, encoded);
            final ControlCodec.Hello h = decode(sender, encoded);
            if (h.receiver != rank)
            {
                refuse(aeronHeader, "a handshake of rank " + sender + " addressed to rank " + h.receiver);
                return;
            }
            checkHello(sender, h);
            final boolean bound = sessionBound[sender];
            if (bound && (ipcPeer[sender] != ipc || boundSession[sender] != aeronHeader.sessionId()))
            {
                refuse(aeronHeader, "a replayed handshake of rank " + sender + " on another session");
                return;
            }
            peerNonce[sender] = h.nonce;
            if (h.echo == null || !MessageDigest.isEqual(h.echo, nonce))
            {
                // authentic, but not made for this connect (a first Hello, or a replay): it proves nothing about
                // its session; answer so the sender can make one that echoes our nonce
                answerOwed[sender] = true;
                return;
            }
            if (!bound)
            {
                if (ipcPeer[sender] != ipc)
                {
                    refuse(aeronHeader, "a handshake of rank " + sender + " over " + (ipc ? "IPC" : "UDP") +
                        ", which that rank does not use to reach this one");
                    return;
                }
                sessionBound[sender] = true;
                boundSession[sender] = aeronHeader.sessionId();
            }
            lastHeardNs[sender] = nowNs;
            received[sender] = true;
            final int step = WireFormat.step(buffer, offset);
            final int index = WireFormat.index(buffer, offset);
            if (step == 1)
            {
                confirmed[sender] = true;
            }
            if (index == 1)
            {
                answerOwed[sender] = true;
            }
        }

        private ControlCodec.Hello decode(final int sender, final byte[] encoded)
        {
            final Object decoded;
            try
            {
                decoded = codec.decode(encoded);
            }
            catch (final RuntimeException ex)
            {
                throw failure("connect", CONNECT_SEQUENCE, List.of(), "rank " + sender +
                    " sent an undecodable Hello: " + ex, ex);
            }
            if (!(decoded instanceof ControlCodec.Hello))
            {
                throw failure("connect", CONNECT_SEQUENCE, List.of(), "rank " + sender + " sent " + decoded +
                    " instead of a Hello");
            }
            return (ControlCodec.Hello)decoded;
        }

        @Override
        public void onMessage(final int type, final int sender, final int step, final int index,
            final DirectBuffer buffer, final int offset, final int length)
        {
            throw protocol("unexpected message type=" + type + " from rank " + sender + " during connect");
        }

        @Override
        public boolean isDone()
        {
            return waitingOn().isEmpty();
        }

        @Override
        public List<Integer> waitingOn()
        {
            final List<Integer> ranks = new ArrayList<>();
            for (int peer = 0; peer < worldSize; peer++)
            {
                if (peer != rank && (!received[peer] || !confirmed[peer] || answerOwed[peer]))
                {
                    ranks.add(peer);
                }
            }
            return ranks;
        }

        @Override
        public String diagnosis()
        {
            final StringBuilder out = new StringBuilder();
            final List<Integer> ranks = new ArrayList<>();
            for (int peer = 0; peer < worldSize; peer++)
            {
                if (peer != rank && !received[peer] && unverified[peer] > 0)
                {
                    ranks.add(peer);
                    out.append(out.length() == 0 ? "" : ", ").append("rank ").append(peer).append(": ")
                        .append(unverified[peer]).append(" refused, key fingerprint ")
                        .append(claimedFingerprint[peer] == null ? "?" : claimedFingerprint[peer]);
                }
            }
            return ranks.isEmpty() ? "" : "; handshakes claiming ranks " + ranks + " did not verify with this " +
                "rank's stage key (fingerprint " + key.fingerprint() + "; " + out + "): the ranks were given " +
                "different stage keys, or a stranger is claiming those ranks";
        }
    }

    /** One-hop exchange: send the same payload to every peer, receive one payload from every peer. */
    private final class AllToAll implements Operation
    {
        private final int type;
        private final Object base;
        private final long address;
        private final int bytes;
        private final boolean[] sent = new boolean[worldSize];
        private final byte[][] received = new byte[worldSize][];
        private int sendsLeft;
        private int receivesLeft;
        private int onlyFrom = -1;

        AllToAll(final int type, final Object base, final long address, final int bytes)
        {
            this.type = type;
            this.base = base;
            this.address = address;
            this.bytes = bytes;
            sendsLeft = worldSize - 1;
            receivesLeft = worldSize - 1;
        }

        void onlyFrom(final int root)
        {
            onlyFrom = root;
            sendsLeft = rank == root ? worldSize - 1 : 0;
            receivesLeft = rank == root ? 0 : 1;
        }

        @Override
        public int doSend(final String name)
        {
            int work = 0;
            for (int i = 1; i < worldSize && sendsLeft > 0; i++)
            {
                final int peer = (rank + i) % worldSize;
                if (!sent[peer] && trySend(name, peer, type, 0, 0, base, address, bytes))
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
                throw protocol("unexpected message type=" + msgType + " from rank " + sender + " (expected type=" +
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

    /**
     * Ring all-reduce. Step s in [0, 2(N-1)): send segment (rank - s) mod N to the right neighbour and receive
     * segment (rank - 1 - s) mod N from the left one: added during reduce-scatter (s < N-1), copied during
     * all-gather. Each segment is cut into chunks; chunk k of step s is sent once chunk k of step s-1 arrived.
     */
    private final class Ring implements Operation
    {
        private final Object base;
        private final long address;
        private final boolean avg;
        private final int left = (rank - 1 + worldSize) % worldSize;
        private final int right = (rank + 1) % worldSize;
        private final int totalSteps = 2 * (worldSize - 1);
        private final int[] segmentStart = new int[worldSize];
        private final int[] segmentLength = new int[worldSize];
        private final int[] segmentChunks = new int[worldSize];
        private int sendStep;
        private int sendChunk;
        private int receiveStep;
        private int receiveChunk;

        Ring(final Object base, final long address, final int count, final boolean avg)
        {
            this.base = base;
            this.address = address;
            this.avg = avg;
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
            while (work < FRAGMENT_LIMIT && sendStep < totalSteps)
            {
                if (sendStep > 0 && !received(sendStep - 1, sendChunk))
                {
                    break;
                }
                final int segment = sendSegment(sendStep);
                final int first = segmentStart[segment] + sendChunk * chunkFloats;
                final int count = Math.min(chunkFloats, segmentStart[segment] + segmentLength[segment] - first);
                if (!trySend(name, right, WireFormat.TYPE_RING, sendStep, sendChunk, base,
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
                throw protocol("ring expected step=" + receiveStep + " chunk=" + receiveChunk + " from rank " + left +
                    ", got type=" + type + " step=" + step + " chunk=" + index + " from rank " + sender);
            }
            final int segment = receiveSegment(step);
            final int first = segmentStart[segment] + index * chunkFloats;
            final int count = Math.min(chunkFloats, segmentStart[segment] + segmentLength[segment] - first);
            if (length != count * Float.BYTES)
            {
                throw protocol("ring step=" + step + " chunk=" + index + " from rank " + sender + " carried " +
                    length + " bytes, expected " + count * Float.BYTES + " (do all ranks pass the same length?)");
            }
            final long target = address + (long)first * Float.BYTES;
            if (step < worldSize - 1)
            {
                addReceived(base, target, buffer, offset, count);
                if (avg && step == worldSize - 2)
                {
                    scale(base, target, count, 1.0f / worldSize);
                }
            }
            else
            {
                copyReceived(base, target, buffer, offset, count);
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

    /** Pipelined chain broadcast root -> root+1 -> ... -> root-1, chunk by chunk. */
    private final class Chain implements Operation
    {
        private final Object base;
        private final long address;
        private final int count;
        private final int chunks;
        private final int left = (rank - 1 + worldSize) % worldSize;
        private final int right = (rank + 1) % worldSize;
        private final boolean forward;
        private int sent;
        private int receivedChunks;

        Chain(final Object base, final long address, final int count, final int root)
        {
            this.base = base;
            this.address = address;
            this.count = count;
            this.chunks = (count + chunkFloats - 1) / chunkFloats;
            this.forward = Math.floorMod(rank - root, worldSize) < worldSize - 1;
            this.receivedChunks = rank == root ? chunks : 0;
        }

        @Override
        public int doSend(final String name)
        {
            int work = 0;
            while (forward && sent < receivedChunks && work < FRAGMENT_LIMIT)
            {
                final int first = sent * chunkFloats;
                final int n = Math.min(chunkFloats, count - first);
                if (!trySend(name, right, WireFormat.TYPE_BROADCAST, 0, sent, base,
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
                throw protocol("broadcast expected chunk=" + receivedChunks + " of " + chunks + " from rank " + left +
                    ", got type=" + type + " chunk=" + index + " length=" + length + " from rank " + sender);
            }
            copyReceived(base, address + (long)first * Float.BYTES, buffer, offset, n);
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

    // ---------------------------------------------------------------------------------------------- close

    /**
     * Ends the operation in progress (it fails with "communicator closed during the operation") and closes the
     * publications, subscriptions, the Aeron client and the embedded driver reference. Safe from any thread: the
     * Aeron client is closed only by a thread that no operation runs on. Called from another thread while an
     * operation runs, it waits up to {@link #CLOSE_WAIT_NS} for the operation's thread to notice and leave; if that
     * thread is still inside (descheduled, or in a long copy), closing is handed to it, and it closes everything as
     * it leaves the operation, instead of having the client's buffers unmapped under it. Idempotent.
     */
    @Override
    public void close()
    {
        if (!closeStarted.compareAndSet(false, true))
        {
            return;
        }
        closing = true;
        final Thread worker = opThread;
        if (worker != null && worker != Thread.currentThread())
        {
            final long deadlineNs = System.nanoTime() + closeWaitNs;
            while (opThread != null && System.nanoTime() - deadlineNs < 0)
            {
                Thread.onSpinWait();
                Thread.yield();
            }
            if (opThread != null)
            {
                // Its run() closes the resources in its finally block, after it stopped using them.
                LOG.warn("rank {}: {} is still in a collective {} ms after close(); it closes the communicator when "
                    + "it leaves", rank, worker.getName(), TimeUnit.NANOSECONDS.toMillis(closeWaitNs));
                return;
            }
        }
        closeResources();
    }

    /** The thread that closed the Aeron client, or null while it is open (tests). */
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
        // Once: by close(), by the constructor that failed, or by the operation's thread that close() handed it to.
        if (!resourcesClosed.compareAndSet(false, true))
        {
            return;
        }
        closedBy = Thread.currentThread();
        closing = true;
        if (rejected > 0)
        {
            LOG.warn("rank {} of job {} generation {} refused {} unauthenticated message(s) in all; dropped {} of " +
                "older generations and {} foreign", rank, jobId, generation, rejected, droppedStale, droppedForeign);
        }
        flushPublications();
        for (int i = 0; i < publications.length; i++)
        {
            CloseHelper.quietClose(publications[i]);
            publications[i] = null;
        }
        CloseHelper.quietClose(subscription);
        subscription = null;
        CloseHelper.quietClose(ipcSubscription);
        ipcSubscription = null;
        CloseHelper.quietClose(aeron);
        aeron = null;
        if (driverAcquired)
        {
            driverAcquired = false;
            EmbeddedDriver.release();
        }
    }

    /**
     * With the embedded (invoker-mode) driver over UDP, a collective's loop can end while its last frames are still
     * in a publication's log, not yet sent: only a later duty cycle (this thread's next collective, or the keeper)
     * would send them. A peer would wait for them meanwhile, and a process that exits or closes its driver first
     * drops them (seen: a rank killed right after connect left its peers failing in connect, not in the next
     * collective). So every collective, and close, runs the duty cycle until each publication's sender position
     * reaches its producer position: a collective returns once its frames have left this process. Bounded by
     * {@link #FLUSH_NS}, because a dead peer's window never opens; the operation's result does not depend on it.
     */
    void flushPublications()
    {
        if (!driverAcquired || transport == CollectiveSettings.Transport.IPC || aeron == null)
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + FLUSH_NS;
        try
        {
            final CountersReader counters = aeron.countersReader();
            while (unsentBytes(counters) > 0 && System.nanoTime() - deadlineNs < 0)
            {
                EmbeddedDriver.invoke();
                Thread.onSpinWait();
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.debug("rank {}: flushing publications failed: {}", rank, ex.toString());
        }
    }

    /** Bytes offered to the publications but not yet sent by the driver (0 for a publication not found). */
    private long unsentBytes(final CountersReader counters)
    {
        long unsent = 0;
        for (int peer = 0; peer < publications.length; peer++)
        {
            if (ipcPeer[peer])
            {
                continue; // an IPC publication has no sender: its subscriber reads the log itself
            }
            final int counterId = senderPositionCounter(counters, peer);
            if (counterId != CountersReader.NULL_COUNTER_ID)
            {
                unsent += Math.max(0, publications[peer].position() - counters.getCounterValue(counterId));
            }
        }
        return unsent;
    }

    /** {sender position counters found, unsent bytes} of this communicator's publications (tests). */
    long[] sendProgress()
    {
        final CountersReader counters = aeron.countersReader();
        long found = 0;
        for (int peer = 0; peer < publications.length; peer++)
        {
            found += senderPositionCounter(counters, peer) != CountersReader.NULL_COUNTER_ID ? 1 : 0;
        }
        return new long[] {found, unsentBytes(counters)};
    }

    private int senderPositionCounter(final CountersReader counters, final int peer)
    {
        final ExclusivePublication publication = publications[peer];
        if (publication == null || publication.isClosed())
        {
            return CountersReader.NULL_COUNTER_ID;
        }
        if (senderPositionIds[peer] != CountersReader.NULL_COUNTER_ID)
        {
            return senderPositionIds[peer];
        }
        final long registrationId = publication.registrationId();
        final int[] counterId = {CountersReader.NULL_COUNTER_ID};
        counters.forEach((id, typeId, key, label) ->
        {
            if (typeId == AeronCounters.DRIVER_SENDER_POSITION_TYPE_ID && key.getLong(0) == registrationId)
            {
                counterId[0] = id;
            }
        });
        senderPositionIds[peer] = counterId[0];
        return counterId[0];
    }

    @Override
    public String toString()
    {
        return "AeronCommunicator{rank=" + rank + ", worldSize=" + worldSize + ", job=" + jobId + ", generation=" +
            generation + ", transport=" + transport + ", seq=" + sequence + "}";
    }
}
