package io.baton.common.collective;

import org.agrona.DirectBuffer;

/**
 * The transport under a {@link CollectiveEngine}: whole messages to a peer, and polling for the messages peers sent.
 * {@link AeronLink} is the product's (Aeron publications and subscriptions); a plain in-memory one runs the same
 * engine and algorithms between threads of one JVM in the tests. One thread uses a link at a time.
 *
 * <p>Contract: messages from one peer arrive whole and in the order sent; a message the receiver declines
 * ({@link Receiver#onMessage} returns false) stays first in that peer's stream until it is taken, while other peers'
 * streams go on; each message carries the session of its sender's stream, which a peer keeps for a link's life.
 */
interface Link extends AutoCloseable
{
    /**
     * Writes one message to {@code peer}: {@code header[0, headerLength)} followed by {@code bytes} bytes read from
     * {@code srcBase/srcAddress} (Unsafe addressing: an array and its offset, or null and a native address).
     *
     * @return false when back pressured or not yet connected (retry later).
     * @throws PeerClosedException      when the stream to the peer can take nothing any more.
     * @throws IllegalArgumentException when the message is longer than the link can carry.
     */
    boolean offer(int peer, DirectBuffer header, int headerLength, Object srcBase, long srcAddress, int bytes);

    /** One duty cycle: the transport's own work, then up to {@code limit} messages per stream to the receiver. */
    int poll(Receiver receiver, int limit);

    /** True if this rank reaches {@code peer} over IPC (a shared media driver), false for the network. */
    boolean ipc(int peer);

    /** Marks the start and end of a bulk operation (a hint for the transport's duty cycle). */
    default void beginBulk()
    {
    }

    default void endBulk()
    {
    }

    /** Waits a bounded time for what was offered to leave this process (no-op where offer already delivered). */
    default void flush()
    {
    }

    /** Releases the transport. Idempotent. */
    @Override
    void close();

    /**
     * Releases the transport after a clean end (no operation failed or in progress); a transport may keep what it can
     * serve the next link with. Idempotent, and as {@link #close()} unless the transport says otherwise.
     */
    default void closeForReuse()
    {
        close();
    }

    /** Takes received messages. */
    @FunctionalInterface
    interface Receiver
    {
        /**
         * One whole message at {@code buffer[offset, offset + length)} from {@code origin} (valid during the call).
         *
         * @return false to leave it in its stream (it comes again first), true when taken or dropped.
         */
        boolean onMessage(DirectBuffer buffer, int offset, int length, Origin origin);
    }

    /** Where a message came from: the sender's stream. */
    interface Origin
    {
        /** The session of the sender's stream (fixed for the stream's life). */
        int sessionId();

        /** True if it came over IPC. */
        boolean ipc();

        /** The source for a log line (a UDP address, "aeron:ipc", a thread). */
        String sourceIdentity();
    }

    /** The stream to a peer was closed: nothing can be sent to it any more. */
    final class PeerClosedException extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        PeerClosedException(final String message)
        {
            super(message);
        }
    }
}
