package io.baton.coordinator.train;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;

import java.nio.ByteBuffer;

/**
 * A {@link Communicator} that reaches the {@code syncbn} fault point on entering each small all-reduce (SyncBatchNorm
 * statistics, the step's loss sum) and the {@code gradient} one on entering each float all-reduce (the gradient),
 * before forwarding the call; everything else is forwarded as it is. Only wrapped when fault points are armed.
 */
final class FaultPointCommunicator implements Communicator
{
    private final Communicator delegate;
    private final FaultPoints faults;

    FaultPointCommunicator(final Communicator delegate, final FaultPoints faults)
    {
        this.delegate = delegate;
        this.faults = faults;
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
        faults.reachInStep("gradient", "allReduce of " + length + " floats");
        delegate.allReduce(data, offset, length, op);
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        faults.reachInStep("gradient", "allReduce of " + floatCount + " off-heap floats");
        delegate.allReduce(address, floatCount, op);
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        faults.reachInStep("gradient", "allReduce of " + directFloats.remaining() / Float.BYTES + " direct floats");
        delegate.allReduce(directFloats, op);
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        faults.reachInStep("syncbn", "allReduceSmall of " + data.length + " doubles");
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
    public void close()
    {
        delegate.close();
    }
}
