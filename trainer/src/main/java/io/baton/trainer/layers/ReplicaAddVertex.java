package io.baton.trainer.layers;

import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.backend.ReplicaParallel;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.impl.ElementWiseVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * The residual add of {@link ReplicaAdd}. Two dense c-order FLOAT inputs of one shape (every residual add of a
 * ResNet) are summed in one pass, {@code a + b} as DL4J's copy-then-{@code addi} computes it, rectified in the same
 * pass in training when the vertex is {@link ReplicaAdd#isFusedRelu() rectified} ({@code v < 0 ? 0 : v}, ND4J's
 * ReLU); backward writes the one gradient to both inputs in one pass over it. Anything else (more inputs,
 * broadcasting, other types or layouts) runs DL4J's code, with the ReLU applied after it when rectified.
 *
 * <p>Threading: like every DL4J vertex, used by one training thread; the passes split over the replica's compute
 * threads ({@link ReplicaParallel}).
 */
final class ReplicaAddVertex extends ElementWiseVertex
{
    /** Floats per chunk a pass reads into scratch arrays: 16 kB, in L1 with its companion. */
    private static final int CHUNK_FLOATS = 4096;

    private final boolean rectified;
    /** Whether the last forward pass took the one-pass path (so backward does). */
    private boolean onePass;

    ReplicaAddVertex(final ComputationGraph graph, final String name, final int vertexIndex, final boolean rectified,
        final DataType dataType)
    {
        super(graph, name, vertexIndex, Op.Add, dataType);
        this.rectified = rectified;
    }

    @Override
    public INDArray doForward(final boolean training, final LayerWorkspaceMgr mgr)
    {
        if (!canDoForward())
        {
            throw new IllegalStateException("Cannot do forward pass: inputs not set");
        }
        final boolean rectify = training && rectified;
        onePass = inputs.length == 2 && DenseFloats.isDense(inputs[0]) && DenseFloats.isDense(inputs[1])
            && inputs[0].equalShapes(inputs[1]) && dataType == DataType.FLOAT;
        if (!onePass)
        {
            final INDArray out = super.doForward(training, mgr);
            return rectify ? Nd4j.getExecutioner().exec(new RectifiedLinear(out, out)) : out;
        }
        final INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, inputs[0].shape(), 'c');
        final FloatBuffer a = DenseFloats.view(inputs[0]);
        final FloatBuffer b = DenseFloats.view(inputs[1]);
        final FloatBuffer o = DenseFloats.view(out);
        final IntBuffer aBits = rectify ? DenseFloats.bitsView(inputs[0]) : null;
        final int length = Math.toIntExact(out.length());
        ReplicaParallel.forRange(chunks(length), CHUNK_FLOATS, (from, to) ->
        {
            final float[] x = new float[CHUNK_FLOATS];
            final float[] y = new float[CHUNK_FLOATS];
            final int[] bits = rectify ? new int[CHUNK_FLOATS] : null;
            for (int chunk = from; chunk < to; chunk++)
            {
                final int offset = chunk * CHUNK_FLOATS;
                final int size = Math.min(CHUNK_FLOATS, length - offset);
                a.get(offset, x, 0, size);
                b.get(offset, y, 0, size);
                if (rectify)
                {
                    aBits.get(offset, bits, 0, size);
                    rectifiedSum(x, y, bits, size);
                }
                else
                {
                    for (int i = 0; i < size; i++)
                    {
                        x[i] += y[i];
                    }
                }
                o.put(offset, x, 0, size);
            }
        });
        DenseFloats.written(out);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(final boolean tbptt, final LayerWorkspaceMgr mgr)
    {
        if (!onePass)
        {
            return super.doBackward(tbptt, mgr);
        }
        if (!canDoBackward())
        {
            throw new IllegalStateException("Cannot do backward pass: errors not set");
        }
        if (!DenseFloats.isDense(epsilon) || !epsilon.equalShapes(inputs[0]))
        {
            return new Pair<>(null, new INDArray[] {mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon),
                mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon)});
        }
        final INDArray first = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, epsilon.shape(), 'c');
        final INDArray second = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, epsilon.shape(),
            'c');
        final FloatBuffer e = DenseFloats.view(epsilon);
        final FloatBuffer d0 = DenseFloats.view(first);
        final FloatBuffer d1 = DenseFloats.view(second);
        final int length = Math.toIntExact(epsilon.length());
        ReplicaParallel.forRange(chunks(length), CHUNK_FLOATS, (from, to) ->
        {
            final float[] x = new float[CHUNK_FLOATS];
            for (int chunk = from; chunk < to; chunk++)
            {
                final int offset = chunk * CHUNK_FLOATS;
                final int size = Math.min(CHUNK_FLOATS, length - offset);
                e.get(offset, x, 0, size);
                d0.put(offset, x, 0, size);
                d1.put(offset, x, 0, size);
            }
        });
        DenseFloats.written(first);
        DenseFloats.written(second);
        return new Pair<>(null, new INDArray[] {first, second});
    }

    /**
     * {@code x[i] = relu(x[i] + y[i])} with ND4J's ReLU ({@code v < 0 ? 0 : v}). {@code Math.max(v, 0)}, which
     * HotSpot vectorises where it leaves the branch a per-element jump, gives the same bits (NaN included) except for
     * {@code v = -0.0}, which a sum is only when both addends are {@code -0.0}: so the chunk takes the vectorised loop
     * when {@code x}, whose raw bits are {@code bits}, holds no {@code -0.0} (an integer test HotSpot vectorises too).
     */
    static void rectifiedSum(final float[] x, final float[] y, final int[] bits, final int size)
    {
        int negativeZeros = 0;
        for (int i = 0; i < size; i++)
        {
            final int d = bits[i] ^ 0x80000000; // 0 exactly for -0.0
            negativeZeros += ((d | -d) >>> 31) ^ 1;
        }
        if (negativeZeros == 0)
        {
            for (int i = 0; i < size; i++)
            {
                x[i] = Math.max(x[i] + y[i], 0f);
            }
            return;
        }
        for (int i = 0; i < size; i++)
        {
            final float v = x[i] + y[i];
            x[i] = v < 0f ? 0f : v;
        }
    }


    private static int chunks(final int length)
    {
        return (length + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
    }

    @Override
    public String toString()
    {
        return "ReplicaAddVertex(id=" + getVertexIndex() + ",name=\"" + getVertexName() + "\",rectified=" + rectified
            + ")";
    }
}
