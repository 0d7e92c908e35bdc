package io.baton.trainer.run;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;

import java.nio.ByteBuffer;

/**
 * A {@link Communicator} that forwards every call and adds up the wall time spent in collectives, so a step's
 * communication time (gradient all-reduce, SyncBatchNorm statistics, metrics) can be reported. Same threading
 * rules as the wrapped communicator; {@link #close()} closes it.
 */
public final class TimedCommunicator implements Communicator
{
    private final Communicator delegate;
    private long totalNs;

    public TimedCommunicator(final Communicator delegate)
    {
        this.delegate = delegate;
    }

    /** Nanoseconds spent inside collectives since creation. */
    public long totalNs()
    {
        return totalNs;
    }

    public Communicator delegate()
    {
        return delegate;
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
        timed(() -> delegate.allReduce(data, offset, length, op));
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        timed(() -> delegate.allReduce(address, floatCount, op));
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        timed(() -> delegate.allReduce(directFloats, op));
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        timed(() -> delegate.allReduceSmall(data, op));
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        timed(() -> delegate.broadcast(data, offset, length, root));
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        timed(() -> delegate.broadcast(address, floatCount, root));
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        return timed(() -> delegate.broadcastBytes(payload, root));
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        return timed(() -> delegate.allGather(payload));
    }

    @Override
    public void barrier()
    {
        timed(() -> delegate.barrier());
    }

    @Override
    public long rejectedMessages()
    {
        return delegate.rejectedMessages();
    }

    private void timed(final Runnable call)
    {
        final long start = System.nanoTime();
        try
        {
            call.run();
        }
        finally
        {
            totalNs += System.nanoTime() - start;
        }
    }

    private <T> T timed(final java.util.function.Supplier<T> call)
    {
        final long start = System.nanoTime();
        try
        {
            return call.get();
        }
        finally
        {
            totalNs += System.nanoTime() - start;
        }
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
