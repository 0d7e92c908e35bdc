package io.baton.common.collective;

/**
 * What an {@link Operation} may do besides receiving: send one message of the current operation to a peer, and
 * report a protocol violation. Implemented by the {@link CollectiveEngine}, which adds the header (job, generation,
 * sequence, sender) and hands the message to its {@link Link}.
 */
interface PeerChannel
{
    /**
     * Writes one message (header + {@code bytes} read from {@code srcBase/srcAddress}) to {@code peer}.
     *
     * @return false when back pressured or not yet connected (retry later).
     */
    boolean trySend(String name, int peer, int type, int step, int index, Object srcBase, long srcAddress, int bytes);

    /** The failure to throw for a message that breaks the protocol (names the operation sequence). */
    CollectiveException protocol(String what);
}
