package io.baton.trainer.bench;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Benchmark decorator: forwards every collective and records where time goes in one training step. Small
 * all-reduces (SyncBatchNorm statistics) accumulate into {@link #smallNs()}; the large flat all-reduce (the
 * gradient) records its start and end time stamps.
 *
 * <p>Threading: the training thread only.
 */
final class PhaseTimingCommunicator implements Communicator
{
    private final Communicator delegate;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long smallNs;
    private long smallCpuNs;
    private long bigStartNs;
    private long bigEndNs;
    private long bigCpuNs;
    /** Wall ns of each small all-reduce of the current step, in call order (the per-layer waits). */
    private long[] smallCallNs = new long[256];
    private int smallCalls;

    PhaseTimingCommunicator(final Communicator delegate)
    {
        this.delegate = delegate;
    }

    void reset()
    {
        smallCalls = 0;
        smallNs = 0;
        smallCpuNs = 0;
        bigStartNs = 0;
        bigEndNs = 0;
        bigCpuNs = 0;
    }

    /** Wall ns of each small all-reduce since {@link #reset()}, in call order. */
    long[] smallCallNs()
    {
        return Arrays.copyOf(smallCallNs, smallCalls);
    }

    long smallNs()
    {
        return smallNs;
    }

    /** CPU time of the calling thread inside the small all-reduces (the rest of {@link #smallNs()} it waited). */
    long smallCpuNs()
    {
        return smallCpuNs;
    }

    /** CPU time of the calling thread inside the large all-reduce. */
    long bigCpuNs()
    {
        return bigCpuNs;
    }

    long bigStartNs()
    {
        return bigStartNs;
    }

    long bigEndNs()
    {
        return bigEndNs;
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
        final long cpuStart = threads.getCurrentThreadCpuTime();
        bigStartNs = System.nanoTime();
        delegate.allReduce(data, offset, length, op);
        bigEndNs = System.nanoTime();
        bigCpuNs = threads.getCurrentThreadCpuTime() - cpuStart;
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        final long cpuStart = threads.getCurrentThreadCpuTime();
        bigStartNs = System.nanoTime();
        delegate.allReduce(address, floatCount, op);
        bigEndNs = System.nanoTime();
        bigCpuNs = threads.getCurrentThreadCpuTime() - cpuStart;
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        final long cpuStart = threads.getCurrentThreadCpuTime();
        bigStartNs = System.nanoTime();
        delegate.allReduce(directFloats, op);
        bigEndNs = System.nanoTime();
        bigCpuNs = threads.getCurrentThreadCpuTime() - cpuStart;
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        final long cpuStart = threads.getCurrentThreadCpuTime();
        final long start = System.nanoTime();
        delegate.allReduceSmall(data, op);
        final long ns = System.nanoTime() - start;
        smallNs += ns;
        if (smallCalls == smallCallNs.length)
        {
            smallCallNs = Arrays.copyOf(smallCallNs, 2 * smallCalls);
        }
        smallCallNs[smallCalls++] = ns;
        smallCpuNs += threads.getCurrentThreadCpuTime() - cpuStart;
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
