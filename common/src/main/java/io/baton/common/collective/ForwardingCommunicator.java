package io.baton.common.collective;

import java.nio.ByteBuffer;

/**
 * A {@link Communicator} that forwards every call to another one: the base of decorators (fault points, timing) that
 * override only the calls they watch, so a method added to {@link Communicator} (as {@link #rejectedMessages()} was)
 * cannot be silently left at its default by one of them.
 *
 * <p>Threading: as the delegate's.
 */
public abstract class ForwardingCommunicator implements Communicator
{
    protected final Communicator delegate;

    protected ForwardingCommunicator(final Communicator delegate)
    {
        this.delegate = delegate;
    }

    @Override
    public int rank()
    {
        return delegate.rank();
    }

    @Override
    public int worldSize()
    {
        return delegate.worldSize();
    }

    @Override
    public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
    {
        delegate.allReduce(data, offset, length, op);
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        delegate.allReduce(address, floatCount, op);
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        delegate.allReduce(directFloats, op);
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        delegate.allReduceSmall(data, op);
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        delegate.broadcast(data, offset, length, root);
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        delegate.broadcast(address, floatCount, root);
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        return delegate.broadcastBytes(payload, root);
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        return delegate.allGather(payload);
    }

    @Override
    public void barrier()
    {
        delegate.barrier();
    }

    @Override
    public long rejectedMessages()
    {
        return delegate.rejectedMessages();
    }

    @Override
    public void close()
    {
        delegate.close();
    }

    @Override
    public void closeForReuse()
    {
        delegate.closeForReuse();
    }
}
