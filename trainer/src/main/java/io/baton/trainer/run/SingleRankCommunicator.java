package io.baton.trainer.run;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;

import java.nio.ByteBuffer;

/**
 * The communicator of a world of one: every collective is the identity (a sum or average over one rank is the
 * rank's own data, a broadcast from rank 0 keeps it), so single-process training, evaluation and retraining run
 * through the same code as a distributed job. Not a test double: it is the real implementation for world size 1.
 *
 * <p>Threading: one thread at a time, like every communicator; {@link #close()} is idempotent and later calls fail.
 */
public final class SingleRankCommunicator implements Communicator
{
    private volatile boolean closed;

    @Override
    public int rank()
    {
        return 0;
    }

    @Override
    public int worldSize()
    {
        return 1;
    }

    @Override
    public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
    {
        checkOpen("allReduce");
        if (offset < 0 || length < 0 || offset + length > data.length)
        {
            throw new IndexOutOfBoundsException("allReduce range [" + offset + ", " + (offset + length)
                + ") outside array of length " + data.length);
        }
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        checkOpen("allReduce");
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        checkOpen("allReduce");
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        checkOpen("allReduceSmall");
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        checkRoot("broadcast", root);
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        checkRoot("broadcast", root);
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        checkRoot("broadcastBytes", root);
        return payload;
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        checkOpen("allGather");
        return new byte[][] {payload};
    }

    @Override
    public void barrier()
    {
        checkOpen("barrier");
    }

    @Override
    public void close()
    {
        closed = true;
    }

    private void checkRoot(final String op, final int root)
    {
        checkOpen(op);
        if (root != 0)
        {
            throw new IllegalArgumentException(op + " root must be 0 in a world of one, root=" + root);
        }
    }

    private void checkOpen(final String op)
    {
        if (closed)
        {
            throw new IllegalStateException(op + " on a closed single-rank communicator");
        }
    }
}
