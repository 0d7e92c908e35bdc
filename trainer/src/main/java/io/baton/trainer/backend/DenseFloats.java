package io.baton.trainer.backend;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Direct {@link FloatBuffer} views of ND4J vectors, for loops over parameters, gradients and optimiser state that
 * must not copy them (the optimiser update, checkpoint snapshots and restores).
 *
 * <p>Threading: stateless; a view is as thread-safe as the array's memory (readers and writers must be ordered by
 * the caller).
 */
public final class DenseFloats
{
    private DenseFloats()
    {
    }

    /**
     * A writable view of a dense c-order FLOAT vector's elements (position 0 = its first element).
     *
     * @throws IllegalArgumentException when the array is not FLOAT, not c-order or not contiguous.
     */
    public static FloatBuffer view(final INDArray a)
    {
        if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' || a.elementWiseStride() != 1)
        {
            throw new IllegalArgumentException("need a dense c-order FLOAT vector, got " + a.dataType() + " order "
                + a.ordering() + " stride " + a.elementWiseStride());
        }
        final FloatBuffer all = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        all.position(Math.toIntExact(a.offset()));
        all.limit(Math.toIntExact(a.offset() + a.length()));
        return all.slice();
    }
}
