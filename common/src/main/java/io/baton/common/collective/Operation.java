package io.baton.common.collective;

import java.util.List;

import org.agrona.DirectBuffer;

/**
 * One collective algorithm's state for one call, driven by the {@link CollectiveEngine}'s duty loop: it sends through a
 * {@link PeerChannel} and is handed the messages of its own operation sequence, already authenticated and filtered.
 */
interface Operation
{
    /** Sends what can be sent now; returns the number of messages sent. */
    int doSend(String name);

    /** Consumes a message of the current sequence ({@code buffer[offset, offset + length)} is the body). */
    void onMessage(int type, int sender, int step, int index, DirectBuffer buffer, int offset, int length);

    boolean isDone();

    /** Ranks this rank still needs something from (or cannot send to). */
    List<Integer> waitingOn();

    /** What a timeout's message should add beyond the waiting ranks ("" if nothing). */
    default String diagnosis()
    {
        return "";
    }

    /** Whether the transport should treat it as bulk transfer (everything but the one-hop small exchanges). */
    default boolean bulk()
    {
        return true;
    }
}
