package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.distribution.UniformDistribution;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInitDistribution;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Adds named, initialised layers to a DL4J graph builder: bias-free Kaiming-normal (fan_out, ReLU) convolutions
 * with explicit padding in Truncate mode (PyTorch's output-size arithmetic), BN through the {@link NormLayerFactory},
 * ReLU, max-pool, addition, global average pool and the classifier. Each method returns the new vertex's name.
 */
final class GraphAssembler
{
    private final ComputationGraphConfiguration.GraphBuilder graph;
    private final NormLayerFactory norms;

    GraphAssembler(final ComputationGraphConfiguration.GraphBuilder graph, final NormLayerFactory norms)
    {
        this.graph = graph;
        this.norms = norms;
    }

    String conv(
        final String name,
        final String input,
        final long nIn,
        final long nOut,
        final int kernel,
        final int stride,
        final int padding)
    {
        final double std = Math.sqrt(2.0 / ((double)kernel * kernel * nOut));
        graph.addLayer(name, new ConvolutionLayer.Builder()
            .nIn(nIn)
            .nOut(nOut)
            .kernelSize(kernel, kernel)
            .stride(stride, stride)
            .padding(padding, padding)
            .convolutionMode(ConvolutionMode.Truncate)
            .hasBias(false)
            .activation(Activation.IDENTITY)
            .weightInit(new WeightInitDistribution(new NormalDistribution(0, std)))
            .build(), input);
        return name;
    }

    String norm(final String name, final String input, final long channels, final boolean zeroGamma)
    {
        final NormSpec spec = NormSpec.of(name, channels, zeroGamma ? 0.0 : 1.0);
        final BatchNormalization layer = norms.create(spec);
        if (layer == null)
        {
            throw new IllegalStateException("NormLayerFactory returned null for " + spec);
        }
        graph.addLayer(name, layer, input);
        return name;
    }

    String relu(final String name, final String input)
    {
        graph.addLayer(name, new ActivationLayer.Builder().activation(Activation.RELU).build(), input);
        return name;
    }

    String maxPool(final String name, final String input)
    {
        graph.addLayer(name, new SubsamplingLayer.Builder(PoolingType.MAX)
            .kernelSize(3, 3)
            .stride(2, 2)
            .padding(1, 1)
            .convolutionMode(ConvolutionMode.Truncate)
            .build(), input);
        return name;
    }

    String add(final String name, final String first, final String second)
    {
        graph.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), first, second);
        return name;
    }

    String zeroPad(final String name, final String input, final int stride, final long outChannels)
    {
        graph.addVertex(name, new ZeroPadShortcutVertex(stride, outChannels), input);
        return name;
    }

    String globalAveragePool(final String name, final String input)
    {
        graph.addLayer(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), input);
        return name;
    }

    /**
     * Linear classifier with bias and softmax cross-entropy; weights uniform in +-1/sqrt(nIn) as PyTorch's
     * default Linear init, biases 0.
     */
    String classifier(final String name, final String input, final long nIn, final long classes)
    {
        final double bound = 1.0 / Math.sqrt(nIn);
        graph.addLayer(name, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
            .nIn(nIn)
            .nOut(classes)
            .hasBias(true)
            .activation(Activation.SOFTMAX)
            .weightInit(new WeightInitDistribution(new UniformDistribution(-bound, bound)))
            .biasInit(0.0)
            .build(), input);
        return name;
    }
}
