package io.baton.trainer.backend;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * Direct {@link FloatBuffer} views and addresses of ND4J vectors, for loops over parameters, gradients and optimiser
 * state that must not copy them (the optimiser update, collectives, checkpoint snapshots and restores).
 *
 * <p>Host and device: these work on the array's host memory. On the CPU backend that is the only copy. On a GPU
 * backend ND4J keeps a host and a device copy and tracks which one is current, so {@link #view} and
 * {@link #hostAddress} first make the host copy current, and a caller that wrote through them calls
 * {@link #written} so that ND4J copies the host memory to the device before the next operation there. On the CPU
 * backend both are no-ops. (The GPU path has not run on a GPU: see the README.)
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
     * A writable view of a dense c-order FLOAT vector's elements (position 0 = its first element), with the host
     * copy made current.
     *
     * @throws IllegalArgumentException when the array is not FLOAT, not c-order or not contiguous.
     */
    public static FloatBuffer view(final INDArray a)
    {
        return elements(a).asFloatBuffer();
    }

    /**
     * As {@link #view}, the same memory read as the floats' raw IEEE bits (e.g. to find {@code -0.0f} with integer
     * operations, which HotSpot vectorises where it does not vectorise float comparisons).
     */
    public static IntBuffer bitsView(final INDArray a)
    {
        return elements(a).asIntBuffer();
    }

    /**
     * Whether {@code a} is a non-empty dense c-order FLOAT array of any rank, which Baton's Java kernels read through
     * {@link #view} as one run of floats.
     */
    public static boolean isDense(final INDArray a)
    {
        return a.dataType() == DataType.FLOAT && a.ordering() == 'c' && a.elementWiseStride() == 1 && a.length() > 0;
    }

    /** The bytes of a dense FLOAT vector's elements, in native order, with the host copy made current. */
    private static ByteBuffer elements(final INDArray a)
    {
        requireDense(a);
        hostCurrent(a);
        final int bytes = Float.BYTES;
        final ByteBuffer all = a.data().asNio();
        all.position(Math.toIntExact(a.offset() * bytes));
        all.limit(Math.toIntExact((a.offset() + a.length()) * bytes));
        return all.slice().order(ByteOrder.nativeOrder());
    }

    /**
     * The native address of a dense c-order FLOAT vector's first element, with the host copy made current. The
     * caller keeps the array alive while it uses the address.
     */
    public static long hostAddress(final INDArray a)
    {
        requireDense(a);
        hostCurrent(a);
        // a view's buffer may itself be a view whose address already includes its offset (ND4J's createBuffer(parent,
        // offset, length)); count only the part of the array's offset that the buffer's address does not
        return a.data().addressPointer().address() + (a.offset() - a.data().offset()) * a.data().getElementSize();
    }

    /** Makes the host copy of {@code a} current (a no-op on the CPU backend). */
    public static void hostCurrent(final INDArray a)
    {
        Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.HOST);
    }

    /** Records that {@code a}'s host memory was written directly (a no-op on the CPU backend). */
    public static void written(final INDArray a)
    {
        if (a != null)
        {
            Nd4j.getAffinityManager().tagLocation(a, AffinityManager.Location.HOST);
        }
    }

    private static void requireDense(final INDArray a)
    {
        // a vector with unit stride is dense whatever its order flag says (DL4J's [1, n] gradient views are 'f')
        if (a.dataType() != DataType.FLOAT || a.ordering() != 'c' && !a.isVector() || a.elementWiseStride() != 1)
        {
            throw new IllegalArgumentException("need a dense c-order FLOAT vector, got " + a.dataType() + " order "
                + a.ordering() + " stride " + a.elementWiseStride());
        }
    }
}
