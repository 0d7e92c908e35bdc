package io.baton.trainer.replica;

import io.baton.common.collective.Communicator;
import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.data.SplitMix64;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A cheap 64-bit checksum of the raw bits of a flat float parameter vector, and the cross-rank comparison of it.
 * Any single-bit difference changes the checksum (each element is mixed with its index by a bijective mixer).
 *
 * <p>Thread-safe (stateless); {@link #verify} is a collective: every rank calls it at the same step.
 */
public final class ParamChecksum
{
    private ParamChecksum()
    {
    }

    /** Checksum of the float bits of {@code flat} (a contiguous float vector or view). */
    public static long of(final INDArray flat)
    {
        if (flat.dataType() != DataType.FLOAT)
        {
            throw new IllegalArgumentException("parameter checksum needs FLOAT parameters, got " + flat.dataType());
        }
        final long length = flat.length();
        long h = SplitMix64.mix(length);
        if (flat.isView() || flat.ordering() != 'c' || flat.elementWiseStride() != 1)
        {
            final float[] values = flat.dup('c').data().asFloat();
            for (int i = 0; i < values.length; i++)
            {
                h = step(h, i, Float.floatToRawIntBits(values[i]));
            }
            return h;
        }
        DenseFloats.hostCurrent(flat);
        final ByteBuffer buffer = flat.data().asNio().order(ByteOrder.nativeOrder());
        final int base = Math.toIntExact(flat.offset());
        for (int i = 0; i < length; i++)
        {
            h = step(h, i, buffer.getInt((base + i) * Float.BYTES));
        }
        return h;
    }

    /**
     * All-gathers every rank's checksum of {@code params} and throws if any differs from rank 0's.
     *
     * @throws ReplicaDivergenceException naming the step and the ranks that disagree with rank 0.
     */
    public static void verify(final Communicator communicator, final INDArray params, final long step)
    {
        final long mine = of(params);
        final byte[][] all = communicator.allGather(ByteBuffer.allocate(Long.BYTES).putLong(mine).array());
        final long reference = ByteBuffer.wrap(all[0]).getLong();
        final List<Integer> differing = new ArrayList<>();
        final StringBuilder values = new StringBuilder();
        for (int r = 0; r < all.length; r++)
        {
            final long value = ByteBuffer.wrap(all[r]).getLong();
            values.append(String.format(Locale.ROOT, " rank %d=%016x", r, value));
            if (value != reference)
            {
                differing.add(r);
            }
        }
        if (!differing.isEmpty())
        {
            throw new ReplicaDivergenceException(step, "parameter checksum mismatch after step " + step
                + ": ranks " + differing + " differ from rank 0 (" + params.length() + " params, world size "
                + all.length + ", this rank " + communicator.rank() + "):" + values);
        }
    }

    private static long step(final long h, final long index, final int bits)
    {
        return SplitMix64.mix(h ^ (index * SplitMix64.GOLDEN_GAMMA) ^ (bits & 0xFFFFFFFFL)) + 1;
    }
}
