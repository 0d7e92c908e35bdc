package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Builds the ResNet family as DL4J {@link ComputationGraph}s in torchvision's layout (ImageNet ResNet-18..152,
 * CIFAR ResNet-20..110 and their plain twins, Wide ResNets, pre-activation variants). Vertex names:
 * {@code input}, {@code stem_conv}, {@code stem_bn}, {@code stem_relu}, {@code stem_pool},
 * {@code stage<S>_block<B>_<part>} (see {@link BlockAssembler}), {@code final_bn}/{@code final_relu}
 * (pre-activation only), {@code pool}, {@code fc} (softmax cross-entropy output).
 */
public final class ResNetZoo
{
    /**
     * Updater placed in configurations when the caller gives none; the trainer replaces it.
     */
    public static final double PLACEHOLDER_LEARNING_RATE = 0.1;

    private ResNetZoo()
    {
    }

    /**
     * @param options the network to build.
     * @return its configuration with DL4J's BN and a placeholder SGD updater; no parameters are allocated.
     */
    public static ComputationGraphConfiguration configuration(final ModelOptions options)
    {
        return configuration(options, NormLayerFactory.standard(), new Sgd(PLACEHOLDER_LEARNING_RATE));
    }

    /**
     * @param options the network to build.
     * @param norms   creates every batch-normalisation layer.
     * @param updater the updater of every layer.
     * @return the configuration; no parameters are allocated.
     */
    public static ComputationGraphConfiguration configuration(
        final ModelOptions options, final NormLayerFactory norms, final IUpdater updater)
    {
        final ComputationGraphConfiguration.GraphBuilder builder = new NeuralNetConfiguration.Builder()
            .seed(options.seed())
            .updater(updater)
            .activation(Activation.IDENTITY)
            .convolutionMode(ConvolutionMode.Truncate)
            .dataType(DataType.FLOAT)
            .graphBuilder()
            .addInputs("input")
            .setInputTypes(inputType(options));
        final GraphAssembler graph = new GraphAssembler(builder, norms);
        final Architecture arch = options.architecture();

        long channels = arch.stemChannels();
        String x = stem(graph, options, channels);
        final BlockAssembler blocks = new BlockAssembler(graph, options);
        final int[] widths = arch.stageWidths();
        final int[] counts = arch.blocksPerStage();
        for (int s = 0; s < counts.length; s++)
        {
            final long inner = scaled(widths[s], options.widthMultiplier());
            final long out = arch.blockType() == BlockType.BASIC ? inner :
                (long)widths[s] * arch.blockType().expansion();
            for (int b = 0; b < counts[s]; b++)
            {
                final int stride = s > 0 && b == 0 ? 2 : 1;
                x = blocks.block("stage" + (s + 1) + "_block" + (b + 1) + "_", x, channels, inner, out, stride);
                channels = out;
            }
        }
        if (options.preActivation())
        {
            x = graph.relu("final_relu", graph.norm("final_bn", x, channels, false));
        }
        x = graph.globalAveragePool("pool", x);
        graph.classifier("fc", x, channels, options.numClasses());
        return builder.setOutputs("fc").build();
    }

    /**
     * @param options the network to build.
     * @return an initialised graph with DL4J's BN and a placeholder SGD updater.
     */
    public static ComputationGraph graph(final ModelOptions options)
    {
        return init(configuration(options));
    }

    /**
     * @param options the network to build.
     * @param norms   creates every batch-normalisation layer.
     * @param updater the updater of every layer.
     * @return an initialised graph.
     */
    public static ComputationGraph graph(
        final ModelOptions options, final NormLayerFactory norms, final IUpdater updater)
    {
        return init(configuration(options, norms, updater));
    }

    /**
     * @param options the network.
     * @return the NCHW convolutional input type of the network.
     */
    public static InputType inputType(final ModelOptions options)
    {
        return InputType.convolutional(
            options.inputHeight(), options.inputWidth(), options.inputChannels(), CNN2DFormat.NCHW);
    }

    private static ComputationGraph init(final ComputationGraphConfiguration configuration)
    {
        final ComputationGraph graph = new ComputationGraph(configuration);
        graph.init();
        return graph;
    }

    private static String stem(final GraphAssembler graph, final ModelOptions options, final long channels)
    {
        final boolean imageNet = options.architecture().stem() == Architecture.Stem.IMAGENET;
        final String conv = imageNet ?
            graph.conv("stem_conv", "input", options.inputChannels(), channels, 7, 2, 3) :
            graph.conv("stem_conv", "input", options.inputChannels(), channels, 3, 1, 1);
        if (options.preActivation() && !imageNet)
        {
            return conv;
        }
        final String relu = graph.relu("stem_relu", graph.norm("stem_bn", conv, channels, false));
        return imageNet ? graph.maxPool("stem_pool", relu) : relu;
    }

    private static long scaled(final int width, final double multiplier)
    {
        return Math.max(1, Math.round(width * multiplier));
    }
}
