package io.baton.trainer.layers;

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

/**
 * DL4J's activation layer with a one-pass ReLU in training. DL4J's layer copies its input before applying the
 * activation in place (forward) and copies it again before differentiating it, into an array it then copies into
 * the gradient workspace (backprop): 2 and 3 passes over the activation where 1 each suffices. This layer runs the
 * same ND4J ops ({@code RectifiedLinear}, {@code RectifiedLinearDerivative}, as {@code ActivationReLU} does) from the
 * input straight into an array of the workspace DL4J would leave the result in, so the values are DL4J's bit for bit.
 *
 * <p>Anything but a plain ReLU (threshold, slope or maximum set, or another activation) and inference run DL4J's own
 * code. Threading: like every DL4J layer, used by one training thread.
 */
public class ReplicaActivationLayer extends ActivationLayer
{
    private static final ActivationReLU PLAIN_RELU = new ActivationReLU();

    public ReplicaActivationLayer(final NeuralNetConfiguration conf, final DataType dataType)
    {
        super(conf, dataType);
    }

    /** Whether this layer's activation is a ReLU with no threshold, slope or maximum. */
    boolean plainRelu()
    {
        return PLAIN_RELU.equals(layerConf().getActivationFn());
    }

    @Override
    public INDArray activate(final boolean training, final LayerWorkspaceMgr mgr)
    {
        if (!training || !plainRelu())
        {
            return super.activate(training, mgr);
        }
        assertInputSet(false);
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
        Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(input, epsilon, delta, 0.0));
        return new Pair<>(new DefaultGradient(), delta);
    }
}
