package io.baton.coordinator.train;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ForwardingCommunicator;
import io.baton.common.collective.ReduceOp;

import java.nio.ByteBuffer;

/**
 * A {@link Communicator} that reaches the {@code syncbn} fault point on entering each small all-reduce (SyncBatchNorm
 * statistics, the step's loss sum) and the {@code gradient} one on entering each float all-reduce (the gradient),
 * before forwarding the call; everything else is forwarded as it is. Only wrapped when fault points are armed.
 */
final class FaultPointCommunicator extends ForwardingCommunicator
{
    private final FaultPoints faults;

    FaultPointCommunicator(final Communicator delegate, final FaultPoints faults)
    {
        super(delegate);
        this.faults = faults;
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
}
