package io.baton.trainer.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * Configuration of the replica's 2-D convolution: DL4J's {@link ConvolutionLayer} with every setting and the same
 * parameters, whose layer ({@link ReplicaConvolutionLayer}) does not run the forward convolution a second time in
 * backprop when its activation is the identity (DL4J's does, to differentiate the activation, and for an identity
 * activation throws the result away). Outputs and gradients are bit for bit DL4J's.
 *
 * <p>Used only in the replica's training graph ({@link ReplicaLayers#toReplica}); an export turns it back into
 * DL4J's class ({@link ReplicaLayers#toPlain}). Survives DL4J's JSON round trip (Jackson stores the class name and
 * the inherited fields). Threading: configuration objects are immutable once the network is built.
 */
public class ReplicaConvolution extends ConvolutionLayer
{
    private static final long serialVersionUID = 1L;

    /** {@code model.conv-engine}: "onednn" (Baton's {@link OneDnnConvolution}) or "dl4j" (DL4J's helper). */
    public static final String ENGINE_ONEDNN = "onednn";
    public static final String ENGINE_DL4J = "dl4j";

    private String convEngine = ENGINE_DL4J;

    /** For Jackson and {@link #from(ConvolutionLayer)}. */
    public ReplicaConvolution()
    {
        super();
    }

    /** A ReplicaConvolution with every setting of {@code conv}, which is not modified. */
    public static ReplicaConvolution from(final ConvolutionLayer conv)
    {
        return from(conv, ENGINE_DL4J);
    }

    /** A ReplicaConvolution with every setting of {@code conv} on {@code engine} ({@link #ENGINE_ONEDNN} or DL4J's). */
    public static ReplicaConvolution from(final ConvolutionLayer conv, final String engine)
    {
        final ReplicaConvolution out = new ReplicaConvolution();
        LayerConfs.copyFields(ConvolutionLayer.class, conv.clone(), out,
            "ReplicaConvolution of layer '" + conv.getLayerName() + "'");
        out.setConvEngine(engine);
        return out;
    }

    /** Which code computes the convolution: {@link #ENGINE_ONEDNN} or {@link #ENGINE_DL4J}. */
    public String getConvEngine()
    {
        return convEngine;
    }

    /** For Jackson and {@link #from(ConvolutionLayer, String)}. */
    public void setConvEngine(final String engine)
    {
        if (!ENGINE_ONEDNN.equals(engine) && !ENGINE_DL4J.equals(engine))
        {
            throw new IllegalArgumentException("convolution engine '" + engine + "': expected " + ENGINE_ONEDNN
                + " or " + ENGINE_DL4J);
        }
        this.convEngine = engine;
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
        return LayerConfs.wire(new ReplicaConvolutionLayer(conf, networkDataType), conf, trainingListeners, layerIndex,
            layerParamsView, initializeParams, initializer());
    }

    @Override
    public ReplicaConvolution clone()
    {
        return (ReplicaConvolution)super.clone();
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof ReplicaConvolution other && super.equals(o) && convEngine.equals(other.convEngine);
    }

    @Override
    protected boolean canEqual(final Object other)
    {
        return other instanceof ReplicaConvolution;
    }

    @Override
    public int hashCode()
    {
        return 31 * super.hashCode() + convEngine.hashCode();
    }
}
