package io.baton.trainer.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * Configuration of the replica's activation layer: DL4J's {@link ActivationLayer} with every setting, whose layer
 * ({@link ReplicaActivationLayer}) computes a plain ReLU and its derivative in one pass each instead of copying the
 * input first (DL4J's layer duplicates the input in forward and in backprop, then applies the activation in place).
 * Outputs and gradients are bit for bit DL4J's. When the layer before it applies the ReLU itself in training
 * ({@link ReluFusible}, {@link #isInputRectified()}), the forward pass passes the input on without a pass over it.
 *
 * <p>Used only in the replica's training graph ({@link ReplicaLayers#toReplica}); exports hold DL4J's class. Survives
 * DL4J's JSON round trip. Threading: configuration objects are immutable once the network is built.
 */
public class ReplicaActivation extends ActivationLayer
{
    private static final long serialVersionUID = 1L;

    /** Whether the producer of this layer's input already applied this ReLU in training ({@link ReluFusible}). */
    protected boolean inputRectified;

    /** For Jackson and {@link #from(ActivationLayer)}. */
    public ReplicaActivation()
    {
        super();
    }

    /** A ReplicaActivation with every setting of {@code layer}, which is not modified. */
    public static ReplicaActivation from(final ActivationLayer layer)
    {
        final ReplicaActivation out = new ReplicaActivation();
        LayerConfs.copyFields(ActivationLayer.class, layer.clone(), out,
            "ReplicaActivation of layer '" + layer.getLayerName() + "'");
        return out;
    }

    /**
     * Whether the layer before this one already rectifies its training-mode output ({@link ReluFusible}), so that
     * this plain ReLU passes its input on in training. Bean accessors: DL4J's Jackson mapper uses them.
     */
    public boolean isInputRectified()
    {
        return inputRectified;
    }

    public void setInputRectified(final boolean inputRectified)
    {
        this.inputRectified = inputRectified;
    }

    @Override
    public Layer instantiate(
        final NeuralNetConfiguration conf,
        final Collection<TrainingListener> trainingListeners,
        final int layerIndex,
        final INDArray layerParamsView,
        final boolean initializeParams,
        final DataType networkDataType)
    {
        return LayerConfs.wire(new ReplicaActivationLayer(conf, networkDataType), conf, trainingListeners, layerIndex,
            layerParamsView, initializeParams, initializer());
    }

    @Override
    public ReplicaActivation clone()
    {
        return (ReplicaActivation)super.clone();
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof ReplicaActivation other && super.equals(o) && inputRectified == other.inputRectified;
    }

    @Override
    protected boolean canEqual(final Object other)
    {
        return other instanceof ReplicaActivation;
    }

    @Override
    public int hashCode()
    {
        return 31 * super.hashCode() + (inputRectified ? 3 : 2);
    }
}
