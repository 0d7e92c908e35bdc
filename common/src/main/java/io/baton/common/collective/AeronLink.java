package io.baton.common.collective;

import java.util.Arrays;
import java.util.List;

import io.aeron.Aeron;
import io.aeron.AeronCounters;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableDirectByteBuffer;
import org.agrona.LangUtil;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Aeron transport of a communicator: the media driver (embedded, external or shared), the client, one exclusive
 * publication per peer (UDP unicast to its endpoint, or IPC on its stream), the UDP and/or IPC subscription this rank
 * receives on, writing messages into the logs (claim, or offer of a copy when longer than one frame), polling with
 * reassembly, and flushing what the embedded driver has not sent yet. Owns all of them; {@link #close()} releases
 * them in order. Wire bytes are exactly the header and body handed to {@link #offer}.
 */
final class AeronLink implements Link
{
    private static final Logger LOG = LoggerFactory.getLogger(AeronCommunicator.class);

    private final CollectiveSettings settings;
    private final int rank;
    private final int worldSize;
    private final List<PeerEndpoint> peers;
    private final long jobHash;
    /** Per peer: true if this rank talks to it over IPC (same host and driver), false for UDP. */
    private final boolean[] ipcPeer;
    private final CollectiveSettings.Transport transport;
    private final BufferClaim claim = new BufferClaim();
    private final ExpandableDirectByteBuffer sendBuffer = new ExpandableDirectByteBuffer(4096);
    private final ExclusivePublication[] publications;
    /** Per peer: the driver's sender position counter of the publication to it, once found. */
    private final int[] senderPositionIds;
    private final AeronOrigin udpOrigin = new AeronOrigin(false);
    private final AeronOrigin ipcOrigin = new AeronOrigin(true);
    private final ControlledFragmentAssembler assembler;
    private final ControlledFragmentAssembler ipcAssembler;

    private Receiver receiver;
    private boolean driverAcquired;
    private String aeronDirectory;
    private Aeron aeron;
    /** UDP subscription (null if every peer is reached over IPC). */
    private Subscription subscription;
    /** IPC subscription (null if no peer shares this rank's host and driver). */
    private Subscription ipcSubscription;
    private boolean closed;

    /** Opens the driver, client, subscriptions and publications; closes what it built if that fails. */
    AeronLink(final CollectiveSettings settings, final int rank, final List<PeerEndpoint> peers, final long jobHash)
    {
        this.settings = settings;
        this.rank = rank;
        this.peers = peers;
        this.worldSize = peers.size();
        this.jobHash = jobHash;
        this.ipcPeer = resolvePeerTransports(settings, rank, peers);
        this.transport = summarise(settings, ipcPeer);
        this.publications = new ExclusivePublication[worldSize];
        this.senderPositionIds = new int[worldSize];
        Arrays.fill(senderPositionIds, CountersReader.NULL_COUNTER_ID);
        this.assembler = new ControlledFragmentAssembler(
            (buffer, offset, length, header) -> deliver(buffer, offset, length, header, udpOrigin));
        this.ipcAssembler = new ControlledFragmentAssembler(
            (buffer, offset, length, header) -> deliver(buffer, offset, length, header, ipcOrigin));
        try
        {
            open();
        }
        catch (final RuntimeException | Error ex)
        {
            close();
            throw ex;
        }
    }

    /**
     * IPC to each peer that shares this rank's host and driver (AUTO), to all peers (IPC: they must all share it),
     * or to none (UDP). Symmetric: two ranks agree on the transport between them, so each receives on the
     * subscription the other publishes to.
     */
    static boolean[] resolvePeerTransports(
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
    static CollectiveSettings.Transport summarise(final CollectiveSettings settings, final boolean[] ipcPeer)
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

    private void open()
    {
        if (settings.driverMode() == CollectiveSettings.DriverMode.SHARED)
        {
            // Registered (subscription and publications added) before the lease releases the directory's lock, so
            // the shared driver cannot exit for want of clients in between.
            try (SharedDriver.Lease lease = SharedDriver.acquire(settings))
            {
                aeronDirectory = lease.directory().getPath();
                openOnDriver();
            }
            return;
        }
        if (settings.driverMode() == CollectiveSettings.DriverMode.EMBEDDED)
        {
            aeronDirectory = EmbeddedDriver.acquire(settings);
            driverAcquired = true;
            if (transport == CollectiveSettings.Transport.IPC && reuse(EmbeddedDriver.unpark(parkingKey())))
            {
                return;
            }
        }
        else
        {
            aeronDirectory = settings.externalDriverDirectory();
        }
        openOnDriver();
    }

    /** The log parameters every publication of this link shares, IPC and UDP. */
    private String logParams()
    {
        return "term-length=" + settings.termLength() + "|mtu=" + settings.mtuLength() + "|sparse=false";
    }

    /** The channel of this link's IPC publications. */
    private String ipcChannel()
    {
        return "aeron:ipc?" + logParams();
    }

    /**
     * What an IPC link of this rank is made of on this driver: its subscription's stream and each publication's
     * channel and stream. A parked link of the same key serves this link as if opened now.
     */
    private String parkingKey()
    {
        final StringBuilder key = new StringBuilder(aeronDirectory).append("|rank ").append(rank).append(" of ")
            .append(worldSize).append("|receives on ").append(AeronCommunicator.ipcStreamId(settings, jobHash, rank));
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank)
            {
                key.append("|to ").append(peer).append(' ').append(ipcChannel()).append(" stream ")
                    .append(AeronCommunicator.ipcStreamId(settings, jobHash, peer));
            }
        }
        return key.toString();
    }

    /** Takes over a parked link's client, subscription and publications; false (nothing taken) for null. */
    private boolean reuse(final Parked link)
    {
        if (link == null)
        {
            return false;
        }
        aeron = link.aeron();
        ipcSubscription = link.ipcSubscription();
        System.arraycopy(link.publications(), 0, publications, 0, worldSize);
        LOG.debug("rank {}: IPC link reused on {}", rank, aeronDirectory);
        return true;
    }

    /**
     * An IPC link parked by a communicator that closed cleanly: the Aeron client, the subscription and the publications
     * (whose log buffers took most of a connect: ~0.2 s per publication of 8 MB terms on a 2-core VM, the driver and
     * the client each touching every page), kept on the lingering embedded driver for the next stage of this rank.
     */
    record Parked(Aeron aeron, Subscription ipcSubscription, ExclusivePublication[] publications)
        implements AutoCloseable
    {
        @Override
        public void close()
        {
            for (final ExclusivePublication publication : publications)
            {
                CloseHelper.quietClose(publication);
            }
            CloseHelper.quietClose(ipcSubscription);
            CloseHelper.quietClose(aeron);
        }
    }

    private void openOnDriver()
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
            ipcSubscription = aeron.addSubscription("aeron:ipc",
                AeronCommunicator.ipcStreamId(settings, jobHash, rank));
        }
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank)
            {
                final String channel = ipcPeer[peer] ? ipcChannel() : "aeron:udp?endpoint=" +
                    peers.get(peer).host() + ":" + peers.get(peer).port() + "|" + logParams() +
                    (settings.socketSendBufferLength() > 0 ? "|so-sndbuf=" + settings.socketSendBufferLength() : "");
                publications[peer] = aeron.addExclusivePublication(channel,
                    ipcPeer[peer] ? AeronCommunicator.ipcStreamId(settings, jobHash, peer) : settings.streamId());
            }
        }
    }

    /** Transport actually used: UDP, IPC, or MIXED. */
    CollectiveSettings.Transport transport()
    {
        return transport;
    }

    String aeronDirectory()
    {
        return aeronDirectory;
    }

    @Override
    public boolean ipc(final int peer)
    {
        return ipcPeer[peer];
    }

    @Override
    public boolean offer(final int peer, final DirectBuffer header, final int headerLength, final Object srcBase,
        final long srcAddress, final int bytes)
    {
        final ExclusivePublication publication = publications[peer];
        final int length = headerLength + bytes;
        final long result;
        if (length <= publication.maxPayloadLength())
        {
            result = publication.tryClaim(length, claim);
            if (result > 0)
            {
                final UnsafeBuffer buffer = (UnsafeBuffer)claim.buffer();
                final int offset = claim.offset();
                buffer.putBytes(offset, header, 0, headerLength);
                if (bytes > 0)
                {
                    UnsafeApi.copyMemory(srcBase, srcAddress, buffer.byteArray(),
                        buffer.addressOffset() + offset + headerLength, bytes);
                }
                claim.commit();
                return true;
            }
        }
        else
        {
            if (length > publication.maxMessageLength())
            {
                throw new IllegalArgumentException("message of " + length + " bytes exceeds maxMessageLength=" +
                    publication.maxMessageLength() + " (termLength=" + settings.termLength() + ")");
            }
            sendBuffer.checkLimit(length);
            sendBuffer.putBytes(0, header, 0, headerLength);
            UnsafeApi.copyMemory(srcBase, srcAddress, null, sendBuffer.addressOffset() + headerLength, bytes);
            result = publication.offer(sendBuffer, 0, length);
            if (result > 0)
            {
                return true;
            }
        }
        if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
        {
            throw new PeerClosedException("publication to rank " + peer + " " + Publication.errorString(result));
        }
        return false;
    }

    @Override
    public int poll(final Receiver receiver, final int limit)
    {
        this.receiver = receiver;
        int work = 0;
        if (driverAcquired)
        {
            work += EmbeddedDriver.invoke();
        }
        if (subscription != null)
        {
            work += subscription.controlledPoll(assembler, limit);
        }
        if (ipcSubscription != null)
        {
            work += ipcSubscription.controlledPoll(ipcAssembler, limit);
        }
        return work;
    }

    private Action deliver(final DirectBuffer buffer, final int offset, final int length, final Header header,
        final AeronOrigin origin)
    {
        origin.header = header;
        return receiver.onMessage(buffer, offset, length, origin) ? Action.CONTINUE : Action.ABORT;
    }

    @Override
    public void beginBulk()
    {
        if (driverAcquired)
        {
            EmbeddedDriver.beginBulk();
        }
    }

    @Override
    public void endBulk()
    {
        if (driverAcquired)
        {
            EmbeddedDriver.endBulk();
        }
    }

    /**
     * With the embedded (invoker-mode) driver over UDP, a collective's loop can end while its last frames are still
     * in a publication's log, not yet sent: only a later duty cycle (this thread's next collective, or the keeper)
     * would send them. A peer would wait for them meanwhile, and a process that exits or closes its driver first
     * drops them (seen: a rank killed right after connect left its peers failing in connect, not in the next
     * collective). So every collective, and close, runs the duty cycle until each publication's sender position
     * reaches its producer position: a collective returns once its frames have left this process. Bounded by
     * {@link AeronCommunicator#FLUSH_NS}, because a dead peer's window never opens; the operation's result does not
     * depend on it.
     */
    @Override
    public void flush()
    {
        if (!driverAcquired || transport == CollectiveSettings.Transport.IPC || aeron == null)
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + AeronCommunicator.FLUSH_NS;
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

    /** {sender position counters found, unsent bytes} of the publications (tests). */
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

    /** Flushes, then closes the publications, subscriptions, the client and the embedded driver reference. */
    @Override
    public void close()
    {
        close(false);
    }

    /**
     * As {@link #close()}, except that an IPC link on an embedded driver that lingers
     * ({@link CollectiveSettings#embeddedDriverLingerNs()} > 0) is parked on the driver instead of closed, whole and
     * open, for the next link of this rank with the same streams (the next stage: a relaunch, an elastic stage, the
     * next fit of a DL4J training master). Messages left in it are of this generation, which the next one drops.
     */
    @Override
    public void closeForReuse()
    {
        close(true);
    }

    private boolean parkable()
    {
        if (!driverAcquired || transport != CollectiveSettings.Transport.IPC || settings.embeddedDriverLingerNs() <= 0
            || aeron == null || aeron.isClosed() || ipcSubscription == null || ipcSubscription.isClosed())
        {
            return false;
        }
        for (int peer = 0; peer < worldSize; peer++)
        {
            if (peer != rank && (publications[peer] == null || publications[peer].isClosed()))
            {
                return false;
            }
        }
        return true;
    }

    private void close(final boolean reuse)
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (reuse && !Thread.currentThread().isInterrupted() && parkable()
            && EmbeddedDriver.park(parkingKey(), new Parked(aeron, ipcSubscription, publications.clone())))
        {
            Arrays.fill(publications, null);
            ipcSubscription = null;
            aeron = null;
            driverAcquired = false;
            EmbeddedDriver.release();
            return;
        }
        // A close on an interrupted thread (an executor shut down with shutdownNow, a cancelled task) would make the
        // client's AgentRunner give up joining its conductor ("failed to close due to thread interrupt") and leave
        // the client, and with it the embedded driver, running: close with the flag cleared, then restore it.
        final boolean interrupted = Thread.interrupted();
        try
        {
            flush();
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
        finally
        {
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The origin of the fragment being delivered: its Aeron header, over UDP or IPC. */
    private static final class AeronOrigin implements Origin
    {
        private final boolean ipc;
        private Header header;

        AeronOrigin(final boolean ipc)
        {
            this.ipc = ipc;
        }

        @Override
        public int sessionId()
        {
            return header.sessionId();
        }

        @Override
        public boolean ipc()
        {
            return ipc;
        }

        @Override
        public String sourceIdentity()
        {
            final Object context = header.context();
            return context instanceof Image ? ((Image)context).sourceIdentity() : "unknown source";
        }
    }
}
