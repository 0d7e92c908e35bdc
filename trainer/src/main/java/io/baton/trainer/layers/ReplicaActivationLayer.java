package io.baton.trainer.layers;

import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.backend.ReplicaParallel;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.IntBuffer;

/**
 * DL4J's activation layer with a one-pass ReLU in training. DL4J's layer copies its input before applying the
 * activation in place (forward) and copies it again before differentiating it, into an array it then copies into
 * the gradient workspace (backprop): 2 and 3 passes over the activation where 1 each suffices. This layer runs the
 * same ND4J ops ({@code RectifiedLinear}, {@code RectifiedLinearDerivative}, as {@code ActivationReLU} does) from the
 * input straight into an array of the workspace DL4J would leave the result in, so the values are DL4J's bit for bit.
 *
 * <p>In training, a layer whose input producer already applied the ReLU ({@link ReplicaActivation#isInputRectified()})
 * returns its input: the derivative in backprop is unchanged, since a rectified input is positive exactly where the
 * pre-activation was.
 *
 * <p>Anything but a plain ReLU (threshold, slope or maximum set, or another activation) and inference run DL4J's own
 * code. Threading: like every DL4J layer, used by one training thread.
 */
public class ReplicaActivationLayer extends ActivationLayer
{
    /** Floats per chunk of the gradient pass: 16 kB each of input, gradient. */
    private static final int CHUNK = 4096;

    private static final ActivationReLU PLAIN_RELU = new ActivationReLU();

    public ReplicaActivationLayer(final NeuralNetConfiguration conf, final DataType dataType)
    {
        super(conf, dataType);
    }

    /** Whether this layer's activation is a ReLU with no threshold, slope or maximum, and no dropout. */
    boolean plainRelu()
    {
        return isPlainRelu(layerConf());
    }

    /**
     * Whether {@code conf} is a ReLU with no threshold, slope or maximum, and no dropout. (DL4J 1.0.0-M2.1's
     * activation layer ignores a configured dropout; a layer with one keeps DL4J's own path all the same, so that it
     * does whatever DL4J does with it.)
     */
    static boolean isPlainRelu(final org.deeplearning4j.nn.conf.layers.ActivationLayer conf)
    {
        return PLAIN_RELU.equals(conf.getActivationFn()) && conf.getIDropout() == null;
    }

    @Override
    public INDArray activate(final boolean training, final LayerWorkspaceMgr mgr)
    {
        if (!training || !plainRelu())
        {
            return super.activate(training, mgr);
        }
        assertInputSet(false);
        if (layerConf() instanceof ReplicaActivation conf && conf.isInputRectified())
        {
            // The producer rectified its training output already (ReluFusible); ReLU is idempotent. leverageTo keeps
            // the array where it is when it already lives in the activations' workspace (a training step's forward
            // pass) and copies it otherwise (DL4J's per-layer inference workspaces), so no workspace rule breaks.
            return mgr.leverageTo(ArrayType.ACTIVATIONS, input);
        }
        final INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(),
            input.ordering());
        Nd4j.getExecutioner().exec(new RectifiedLinear(input, out));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(final INDArray epsilon, final LayerWorkspaceMgr mgr)
    {
        if (!plainRelu())
        {
            return super.backpropGradient(epsilon, mgr);
        }
        assertInputSet(true);
        final INDArray delta = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(),
            input.ordering());
        if (DenseFloats.isDense(input) && DenseFloats.isDense(epsilon) && DenseFloats.isDense(delta)
            && input.equalShapes(epsilon))
        {
            reluGradient(input, epsilon, delta);
        }
        else
        {
            Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(input, epsilon, delta, 0.0));
        }
        return new Pair<>(new DefaultGradient(), delta);
    }

    /**
     * {@code delta = input > 0 ? epsilon : 0}, ND4J's {@code relu_bp} bit for bit, on dense FLOAT arrays. Why not
     * ND4J's op: libnd4j runs it through a {@code std::function} per element, ~1.3 ms per ResNet-20 layer at batch 64
     * (a tenth of a step in all, issue 25's profile). Done on the raw bits with integer operations, which HotSpot
     * vectorises (a float comparison per element would be a branch it does not): the mask is all ones exactly where
     * {@code 0 < bits <= 0x7f800000} as signed integers, i.e. the input is positive (+inf included, NaN and -0.0
     * not).
     */
    static void reluGradient(final INDArray input, final INDArray epsilon, final INDArray delta)
    {
        final IntBuffer in = DenseFloats.bitsView(input);
        final IntBuffer eps = DenseFloats.bitsView(epsilon);
        final IntBuffer out = DenseFloats.bitsView(delta);
        final int length = Math.toIntExact(input.length());
        final int chunks = (length + CHUNK - 1) / CHUNK;
        ReplicaParallel.forRange(chunks, CHUNK, (from, to) ->
        {
            final int[] x = new int[CHUNK];
            final int[] g = new int[CHUNK];
            for (int chunk = from; chunk < to; chunk++)
            {
                final int offset = chunk * CHUNK;
                final int size = Math.min(CHUNK, length - offset);
                in.get(offset, x, 0, size);
                eps.get(offset, g, 0, size);
                maskByPositive(x, g, size);
                out.put(offset, g, 0, size);
            }
        });
        DenseFloats.written(delta);
    }

    /** {@code g[i] = bits(x[i]) > 0 ? g[i] : +0.0}, both as raw float bits (see {@link #reluGradient}). */
    static void maskByPositive(final int[] x, final int[] g, final int size)
    {
        for (int i = 0; i < size; i++)
        {
            final int bits = x[i];
            final int positive = (-bits & ~bits) >> 31;          // all ones iff bits > 0 (not 0, not -0.0)
            final int notNan = ~((0x7f800000 - bits) >> 31);     // all ones iff bits <= +inf's
            g[i] &= positive & notNan;
        }
    }

}
