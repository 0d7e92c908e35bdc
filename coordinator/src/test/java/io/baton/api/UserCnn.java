package io.baton.api;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small CNN that is not in Baton's zoo, written the way a DL4J user writes one: its own layer names, a DL4J
 * updater and L2 (which Baton's optimiser replaces), BatchNormalization after convolutions and after a dense layer,
 * max-pooling, global average pooling and a softmax output.
 */
public final class UserCnn
{
    private UserCnn()
    {
    }

    /** The graph for {@code size x size x 3} images and {@code classes} classes. */
    static ComputationGraphConfiguration configuration(final int size, final int classes, final DataType type,
        final Activation outputActivation, final LossFunctions.LossFunction loss, final int inputChannels)
    {
        return new NeuralNetConfiguration.Builder()
            .seed(42).dataType(type).updater(new Adam(1e-3)).l2(1e-4).weightInit(WeightInit.RELU)
            .convolutionMode(ConvolutionMode.Same)
            .graphBuilder()
            .addInputs("image")
            .setInputTypes(InputType.convolutional(size, size, inputChannels))
            .addLayer("conv-a", new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.IDENTITY).build(),
                "image")
            .addLayer("norm-a", new BatchNormalization.Builder().build(), "conv-a")
            .addLayer("relu-a", new ActivationLayer(Activation.RELU), "norm-a")
            .addLayer("pool-a", new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX, new int[] {2, 2}, new int[] {2, 2})
                .build(), "relu-a")
            .addLayer("conv-b", new ConvolutionLayer.Builder(3, 3).nOut(16).activation(Activation.IDENTITY).build(),
                "pool-a")
            .addLayer("norm-b", new BatchNormalization.Builder().build(), "conv-b")
            .addLayer("relu-b", new ActivationLayer(Activation.RELU), "norm-b")
            .addLayer("gap", new GlobalPoolingLayer(PoolingType.AVG), "relu-b")
            .addLayer("hidden", new DenseLayer.Builder().nOut(16).activation(Activation.IDENTITY).build(), "gap")
            .addLayer("norm-h", new BatchNormalization.Builder().build(), "hidden")
            .addLayer("relu-h", new ActivationLayer(Activation.RELU), "norm-h")
            .addLayer("classes", new OutputLayer.Builder(loss).nOut(classes).activation(outputActivation).build(),
                "relu-h")
            .setOutputs("classes")
            .build();
    }

    /** The usual form: float, softmax with cross-entropy, RGB input. */
    public static ComputationGraphConfiguration configuration(final int size, final int classes)
    {
        return configuration(size, classes, DataType.FLOAT, Activation.SOFTMAX, LossFunctions.LossFunction.MCXENT, 3);
    }
}
