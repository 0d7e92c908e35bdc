package io.baton.common.collective;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The connect operation. Every rank sends its Hello to every peer until that peer confirms it. A link may count as
 * connected, and take the Hello, before the peer's own subscription has joined it (an IPC subscription of an older
 * generation on the same stream in this driver, or an image that joined after the message), so one send is not
 * enough. A Hello counts only when its tag verifies and it echoes this rank's nonce (see {@link AeronCommunicator});
 * a verified Hello that does not echo it teaches the sender's nonce and is answered. A Hello's step is 1 when its
 * sender holds the receiver's Hello (the confirmation); its index is 1 while its sender still waits for the
 * receiver's confirmation, and the receiver then answers with a Hello of step 1. The Hello is sent again every
 * {@link #helloResendNs} until confirmed. Done when every peer's Hello arrived, every peer confirmed ours and every
 * answer owed is sent: a peer that still waits then has an answer on a stream it already reads (it holds one of our
 * messages), so it does not depend on our resending.
 *
 * <p>Hello message body: the sender's key fingerprint ({@link #FINGERPRINT_LENGTH} bytes, for the diagnosis of
 * different keys only), the Kryo {@link ControlCodec.Hello}, then the tag of the header and both.
 */
final class Handshake implements Operation
{
    static final int NONCE_LENGTH = 16;
    /** Bytes of the sender's key fingerprint in front of a Hello's body (diagnostics only: not trusted). */
    private static final int FINGERPRINT_LENGTH = 4;

    private final CollectiveEngine engine;
    private final Link link;
    private final StageKey key;
    private final MessageAuth auth;
    private final byte[] nonce;
    private final String jobId;
    private final long generation;
    private final int rank;
    private final int worldSize;
    private final int chunkFloats;
    private final int smallThresholdBytes;
    private final ControlCodec codec = new ControlCodec();
    private final byte[] fingerprint;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[WireFormat.HEADER_LENGTH]);
    private final byte[][] peerNonce;
    private final boolean[] received;
    private final boolean[] confirmed;
    private final boolean[] answerOwed;
    private final long[] lastSentNs;
    private final boolean[] sentOnce;
    /** Per claimed sender: Hellos that did not verify, and the key fingerprint the last one claimed. */
    private final long[] unverified;
    private final String[] claimedFingerprint;
    private final long helloResendNs;

    /**
     * @param nonce this communicator's handshake nonce: a Hello that echoes it was made for this connect.
     */
    Handshake(final CollectiveEngine engine, final Link link, final StageKey key, final MessageAuth auth,
        final byte[] nonce, final String jobId, final long generation, final int rank, final int worldSize,
        final int chunkFloats, final int smallThresholdBytes)
    {
        this.engine = engine;
        this.link = link;
        this.key = key;
        this.auth = auth;
        this.nonce = nonce;
        this.jobId = jobId;
        this.generation = generation;
        this.rank = rank;
        this.worldSize = worldSize;
        this.chunkFloats = chunkFloats;
        this.smallThresholdBytes = smallThresholdBytes;
        this.fingerprint = HexFormat.of().parseHex(key.fingerprint());
        this.peerNonce = new byte[worldSize][];
        this.received = new boolean[worldSize];
        this.confirmed = new boolean[worldSize];
        this.answerOwed = new boolean[worldSize];
        this.lastSentNs = new long[worldSize];
        this.sentOnce = new boolean[worldSize];
        this.unverified = new long[worldSize];
        this.claimedFingerprint = new String[worldSize];
        this.helloResendNs = Math.min(engine.heartbeatIntervalNs(), TimeUnit.MILLISECONDS.toNanos(50));
    }

    @Override
    public int doSend(final String name)
    {
        final long nowNs = engine.nowNs();
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
                if (engine.trySend(name, peer, WireFormat.TYPE_HELLO, step, index, hello, FloatMath.BYTE_BASE,
                    hello.length))
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
            chunkFloats, smallThresholdBytes, nonce, peerNonce[peer] == null ? new byte[0] : peerNonce[peer]));
        final byte[] body = new byte[FINGERPRINT_LENGTH + encoded.length + MessageAuth.TAG_LENGTH];
        System.arraycopy(fingerprint, 0, body, 0, FINGERPRINT_LENGTH);
        System.arraycopy(encoded, 0, body, FINGERPRINT_LENGTH, encoded.length);
        WireFormat.encode(header, 0, WireFormat.TYPE_HELLO, engine.jobHash(), generation,
            CollectiveEngine.CONNECT_SEQUENCE, rank, step, index, worldSize);
        final byte[] tag = auth.tag(header, WireFormat.HEADER_LENGTH,
            Arrays.copyOf(body, FINGERPRINT_LENGTH + encoded.length));
        System.arraycopy(tag, 0, body, FINGERPRINT_LENGTH + encoded.length, MessageAuth.TAG_LENGTH);
        return body;
    }

    /** A Hello claiming {@code sender}, whole message at {@code buffer[offset, offset + length)}. */
    void onHello(final DirectBuffer buffer, final int offset, final int length, final Link.Origin origin,
        final int sender)
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
            engine.refuse(origin, "a handshake claiming rank " + sender + " that does not verify with this " +
                "stage's key");
            return;
        }
        final byte[] encoded = new byte[bodyLength - FINGERPRINT_LENGTH];
        buffer.getBytes(offset + WireFormat.HEADER_LENGTH + FINGERPRINT_LENGTH, encoded);
        final ControlCodec.Hello h = decode(sender, encoded);
        if (h.receiver != rank)
        {
            engine.refuse(origin, "a handshake of rank " + sender + " addressed to rank " + h.receiver);
            return;
        }
        checkHello(sender, h);
        final boolean bound = engine.sessionBound(sender);
        if (bound && !engine.boundTo(sender, origin))
        {
            engine.refuse(origin, "a replayed handshake of rank " + sender + " on another session");
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
            if (link.ipc(sender) != origin.ipc())
            {
                engine.refuse(origin, "a handshake of rank " + sender + " over " + (origin.ipc() ? "IPC" : "UDP") +
                    ", which that rank does not use to reach this one");
                return;
            }
            engine.bindSession(sender, origin);
        }
        engine.heard(sender);
        received[sender] = true;
        if (WireFormat.step(buffer, offset) == 1)
        {
            confirmed[sender] = true;
        }
        if (WireFormat.index(buffer, offset) == 1)
        {
            answerOwed[sender] = true;
        }
    }

    private void checkHello(final int peer, final ControlCodec.Hello h)
    {
        checkSame(peer, "jobId", h.jobId, jobId);
        checkSame(peer, "rank", h.rank, peer);
        checkSame(peer, "worldSize", h.worldSize, worldSize);
        checkSame(peer, "chunkFloats", h.chunkFloats, chunkFloats);
        checkSame(peer, "smallThresholdBytes", h.smallThresholdBytes, smallThresholdBytes);
        if (h.nonce == null || h.nonce.length != NONCE_LENGTH)
        {
            throw connectFailure("rank " + peer + " sent a Hello without a nonce", null);
        }
    }

    private void checkSame(final int peer, final String what, final Object theirs, final Object mine)
    {
        if (!Objects.equals(theirs, mine))
        {
            throw connectFailure("rank " + peer + " has " + what + "=" + theirs + ", but rank " + rank + " has " +
                what + "=" + mine, null);
        }
    }

    private CollectiveException connectFailure(final String detail, final Throwable cause)
    {
        return engine.failure("connect", CollectiveEngine.CONNECT_SEQUENCE, List.of(), detail, cause);
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
            throw connectFailure("rank " + sender + " sent an undecodable Hello: " + ex, ex);
        }
        if (!(decoded instanceof ControlCodec.Hello))
        {
            throw connectFailure("rank " + sender + " sent " + decoded + " instead of a Hello", null);
        }
        return (ControlCodec.Hello)decoded;
    }

    @Override
    public void onMessage(final int type, final int sender, final int step, final int index,
        final DirectBuffer buffer, final int offset, final int length)
    {
        throw engine.protocol("unexpected message type=" + type + " from rank " + sender + " during connect");
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
