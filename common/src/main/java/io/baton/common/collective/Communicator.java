package io.baton.common.collective;

import java.nio.ByteBuffer;

/**
 * Collective operations among the {@link #worldSize()} replicas of one training job: the only way replicas
 * exchange data. The trainer and SyncBatchNorm depend on this interface; the Aeron ring is one implementation.
 *
 * <p>Contract every implementation keeps:
 * <ul>
 *   <li>Every rank calls the same collectives in the same order (each call has an operation sequence number,
 *       counted per communicator from 0).</li>
 *   <li>Results are bit-identical on every rank and from run to run for a given world size: reductions are
 *       done in a fixed order that depends only on rank and world size.</li>
 *   <li>No call blocks forever: if a peer stops answering, the call fails within the configured deadline with
 *       a {@link CollectiveException} naming the operation, its sequence number, the world size and the
 *       missing ranks. After such a failure the communicator is unusable and must be closed.</li>
 * </ul>
 *
 * <p>Threading: one thread at a time per communicator (the replica's training thread). Calls are not
 * re-entrant. {@link #close()} may be called from any thread and is idempotent.
 */
public interface Communicator extends AutoCloseable
{
    /** This replica's rank in [0, worldSize). */
    int rank();

    /** Number of replicas in the job. */
    int worldSize();

    /** In-place all-reduce of {@code data[offset, offset + length)}. */
    void allReduce(float[] data, int offset, int length, ReduceOp op);

    /** In-place all-reduce of a whole heap array. */
    default void allReduce(float[] data, ReduceOp op)
    {
        allReduce(data, 0, data.length, op);
    }

    /**
     * In-place all-reduce of {@code floatCount} native-order floats at {@code address} (off-heap memory such as
     * an ND4J buffer; the caller keeps it alive for the duration of the call). No full-size copy is made.
     */
    void allReduce(long address, long floatCount, ReduceOp op);

    /** In-place all-reduce of the floats between position and limit of a direct buffer (native byte order). */
    void allReduce(ByteBuffer directFloats, ReduceOp op);

    /**
     * Latency-optimised all-reduce of a small vector in double precision (SyncBatchNorm statistics:
     * a few hundred values). Same determinism guarantees as the float version.
     */
    void allReduceSmall(double[] data, ReduceOp op);

    /** Replaces {@code data[offset, offset + length)} on every rank with root's values. */
    void broadcast(float[] data, int offset, int length, int root);

    /** Off-heap broadcast of {@code floatCount} floats at {@code address}. */
    void broadcast(long address, long floatCount, int root);

    /** Broadcast of a small byte payload; every rank returns root's bytes (the argument is ignored off root). */
    byte[] broadcastBytes(byte[] payload, int root);

    /** Gathers one small payload per rank; element i of the result is rank i's payload, on every rank. */
    byte[][] allGather(byte[] payload);

    /** Returns once every rank has entered the barrier. */
    void barrier();

    /**
     * Messages this replica refused since creation because they failed authentication (a stranger's handshake or
     * publication, a replayed handshake): they were dropped and changed nothing. 0 for an implementation without
     * peers to refuse. May be read from any thread.
     */
    default long rejectedMessages()
    {
        return 0;
    }

    /** Releases threads, publications, subscriptions and (if embedded) the media driver. Idempotent. */
    @Override
    void close();

    /**
     * As {@link #close()}, for a caller whose use of the communicator ended cleanly (every rank finished the same
     * last call): the transport may keep what serves the next communicator between the same ranks (see
     * {@link AeronCommunicator#closeForReuse()}). Idempotent; a later {@link #close()} does nothing.
     */
    default void closeForReuse()
    {
        close();
    }
}
