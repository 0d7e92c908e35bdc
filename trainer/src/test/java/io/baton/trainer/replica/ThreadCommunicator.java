package io.baton.trainer.replica;

import io.baton.common.collective.CollectiveException;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Test double: a {@link Communicator} whose ranks are threads of one JVM sharing memory. Every collective is two
 * barrier phases: each rank publishes a reference to its data, then every rank reduces all contributions itself
 * in rank order 0..N-1 (float sums in float, double sums in double, AVG = SUM x (1/N)), so results are
 * bit-identical on every rank, like a real implementation's fixed reduction order. A rank that does not arrive
 * within the timeout makes every waiter fail with a {@link CollectiveException} naming the missing ranks.
 *
 * <p>Threading: one thread per rank; create all ranks with {@link #world(int, long)}.
 */
public final class ThreadCommunicator implements Communicator
{
    private final Shared shared;
    private final int rank;
    private long sequence;
    private volatile boolean closed;

    private ThreadCommunicator(final Shared shared, final int rank)
    {
        this.shared = shared;
        this.rank = rank;
    }

    /** Creates the {@code worldSize} communicators of one in-process job. */
    public static List<ThreadCommunicator> world(final int worldSize, final long timeoutMs)
    {
        final Shared shared = new Shared(worldSize, timeoutMs);
        final List<ThreadCommunicator> out = new ArrayList<>();
        for (int r = 0; r < worldSize; r++)
        {
            out.add(new ThreadCommunicator(shared, r));
        }
        return out;
    }

    @Override
    public int rank()
    {
        return rank;
    }

    @Override
    public int worldSize()
    {
        return shared.worldSize;
    }

    /** Number of collectives this rank has entered. */
    public long sequence()
    {
        return sequence;
    }

    @Override
    public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
    {
        final float[] mine = Arrays.copyOfRange(data, offset, offset + length);
        final float[] result = reduceFloats("allReduce", mine, op);
        System.arraycopy(result, 0, data, offset, length);
    }

    @Override
    public void allReduce(final long address, final long floatCount, final ReduceOp op)
    {
        final FloatPointer pointer = pointer(address, floatCount);
        final float[] mine = new float[Math.toIntExact(floatCount)];
        pointer.get(mine);
        final float[] result = reduceFloats("allReduce", mine, op);
        pointer.put(result);
    }

    @Override
    public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
    {
        final ByteBuffer buf = directFloats.duplicate().order(ByteOrder.nativeOrder());
        final float[] mine = new float[buf.remaining() / Float.BYTES];
        buf.asFloatBuffer().get(mine);
        final float[] result = reduceFloats("allReduce", mine, op);
        buf.asFloatBuffer().put(result);
    }

    @Override
    public void allReduceSmall(final double[] data, final ReduceOp op)
    {
        final Object[] all = exchange("allReduceSmall", data.clone());
        final double[] sum = new double[data.length];
        for (final Object contribution : all)
        {
            final double[] d = (double[])contribution;
            checkLength("allReduceSmall", d.length, data.length);
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] += d[i];
            }
        }
        if (op == ReduceOp.AVG)
        {
            final double scale = 1.0 / shared.worldSize;
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] *= scale;
            }
        }
        System.arraycopy(sum, 0, data, 0, data.length);
    }

    @Override
    public void broadcast(final float[] data, final int offset, final int length, final int root)
    {
        final Object[] all = exchange("broadcast", Arrays.copyOfRange(data, offset, offset + length));
        System.arraycopy((float[])all[root], 0, data, offset, length);
    }

    @Override
    public void broadcast(final long address, final long floatCount, final int root)
    {
        final FloatPointer pointer = pointer(address, floatCount);
        final float[] mine = new float[Math.toIntExact(floatCount)];
        pointer.get(mine);
        final Object[] all = exchange("broadcast", mine);
        pointer.put((float[])all[root]);
    }

    @Override
    public byte[] broadcastBytes(final byte[] payload, final int root)
    {
        final Object[] all = exchange("broadcastBytes", payload == null ? new byte[0] : payload.clone());
        return ((byte[])all[root]).clone();
    }

    @Override
    public byte[][] allGather(final byte[] payload)
    {
        final Object[] all = exchange("allGather", payload.clone());
        final byte[][] out = new byte[all.length][];
        for (int i = 0; i < all.length; i++)
        {
            out[i] = ((byte[])all[i]).clone();
        }
        return out;
    }

    @Override
    public void barrier()
    {
        exchange("barrier", new byte[0]);
    }

    /** Closes this rank only: its later calls fail; peers still waiting on it time out. */
    @Override
    public void close()
    {
        closed = true;
    }

    private float[] reduceFloats(final String operation, final float[] mine, final ReduceOp op)
    {
        final Object[] all = exchange(operation, mine);
        final float[] sum = new float[mine.length];
        for (final Object contribution : all)
        {
            final float[] f = (float[])contribution;
            checkLength(operation, f.length, mine.length);
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] += f[i];
            }
        }
        if (op == ReduceOp.AVG)
        {
            final float scale = 1.0f / shared.worldSize;
            for (int i = 0; i < sum.length; i++)
            {
                sum[i] *= scale;
            }
        }
        return sum;
    }

    /** Publishes this rank's contribution and returns every rank's, in rank order. */
    private Object[] exchange(final String operation, final Object contribution)
    {
        final long seq = sequence++;
        if (closed)
        {
            throw new CollectiveException(operation, seq, List.of(), operation + " seq=" + seq + ": closed");
        }
        shared.slots[rank] = contribution;
        shared.operations[rank] = operation;
        shared.arrivedSeq[rank] = seq;
        await(operation, seq);
        final Object[] all = shared.slots.clone();
        for (int r = 0; r < all.length; r++)
        {
            if (!operation.equals(shared.operations[r]) || shared.arrivedSeq[r] != seq)
            {
                throw new CollectiveException(operation, seq, List.of(), operation + " seq=" + seq + " worldSize="
                    + shared.worldSize + ": rank " + rank + " called " + operation + " but rank " + r + " called "
                    + shared.operations[r] + " seq=" + shared.arrivedSeq[r]);
            }
        }
        await(operation, seq);
        return all;
    }

    private void await(final String operation, final long seq)
    {
        try
        {
            shared.barrier.await(shared.timeoutMs, TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException | BrokenBarrierException ex)
        {
            final List<Integer> missing = new ArrayList<>();
            for (int r = 0; r < shared.worldSize; r++)
            {
                if (shared.arrivedSeq[r] < seq)
                {
                    missing.add(r);
                }
            }
            throw new CollectiveException(operation, seq, missing, operation + " seq=" + seq + " worldSize="
                + shared.worldSize + " rank=" + rank + ": timed out after " + shared.timeoutMs
                + " ms waiting for ranks " + missing, ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new CollectiveException(operation, seq, List.of(), operation + " seq=" + seq + ": interrupted", ex);
        }
    }

    private void checkLength(final String operation, final int theirs, final int mine)
    {
        if (theirs != mine)
        {
            throw new CollectiveException(operation, sequence - 1, List.of(), operation + ": rank " + rank
                + " has length " + mine + " but another rank has length " + theirs);
        }
    }

    private static FloatPointer pointer(final long nativeAddress, final long floatCount)
    {
        if (nativeAddress == 0)
        {
            throw new IllegalArgumentException("null native address");
        }
        // Inside the anonymous class the inherited fields shadow same-named locals: hence the distinct names.
        return new FloatPointer()
        {
            {
                this.address = nativeAddress;
                this.limit = floatCount;
                this.capacity = floatCount;
            }
        };
    }

    private static final class Shared
    {
        final int worldSize;
        final long timeoutMs;
        final CyclicBarrier barrier;
        final Object[] slots;
        final String[] operations;
        final long[] arrivedSeq;

        Shared(final int worldSize, final long timeoutMs)
        {
            this.worldSize = worldSize;
            this.timeoutMs = timeoutMs;
            this.barrier = new CyclicBarrier(worldSize);
            this.slots = new Object[worldSize];
            this.operations = new String[worldSize];
            this.arrivedSeq = new long[worldSize];
            Arrays.fill(arrivedSeq, -1);
        }
    }
}
