package io.baton.trainer.export;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.layers.ReplicaLayers;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ResidualBlocks;
import io.baton.trainer.model.ShortcutKind;
import io.baton.trainer.model.ShortcutType;
import io.baton.trainer.model.ZeroPadShortcutVertex;
import io.baton.trainer.optim.LabelSmoothing;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The inference form of a graph with Baton's training classes: only DL4J's, and the same output. */
class InferenceFormTest
{
    static final InputType.InputTypeConvolutional INPUT =
        (InputType.InputTypeConvolutional)InputType.convolutional(16, 16, 3);

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    /** ResNet-20 at 16x16 with SyncBatchNorm, shortcut A, label smoothing 0.1 and non-default BN statistics. */
    static ComputationGraph smoothedShortcutA(final boolean preActivation)
    {
        return smoothedShortcutA(preActivation, spec -> spec.applyTo(new SyncBatchNorm()));
    }

    private static ComputationGraph smoothedShortcutA(final boolean preActivation, final NormLayerFactory norms)
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4)
            .shortcut(ShortcutType.A).preActivation(preActivation).seed(5).build();
        // Baton's convolution as the replica's graph has it (TrainingRecipe): the export turns it into DL4J's
        final ComputationGraphConfiguration conf =
            ReplicaLayers.toReplica(ResNetZoo.configuration(options, norms, new NoOp()));
        assertEquals(1, LabelSmoothing.apply(conf, 0.1));
        final ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        Nd4j.getRandom().setSeed(11);
        for (final Layer layer : graph.getLayers())
        {
            if (layer.paramTable().containsKey("mean"))
            {
                layer.getParam("mean").assign(Nd4j.rand(DataType.FLOAT, layer.getParam("mean").shape()).subi(0.5));
                final String spread = layer.paramTable().containsKey("var") ? "var" : "log10stdev";
                final INDArray u = Nd4j.rand(DataType.FLOAT, layer.getParam(spread).shape());
                layer.getParam(spread).assign(spread.equals("var") ? u.addi(0.5) : u.subi(0.5).muli(0.2));
            }
        }
        return graph;
    }

    @Test
    void shouldGiveTheTrainingGraphsOutputBitForBitWithOnlyDl4jClasses()
    {
        for (final boolean preActivation : new boolean[]{false, true})
        {
            // DL4J's BN: SyncBatchNorm's own inference kernel may round differently from DL4J's (ModelExporter checks
            // that swap within its tolerance); what is compared here is the shortcut and the loss.
            final ComputationGraph training = smoothedShortcutA(preActivation, NormLayerFactory.standard());
            assertTrue(training.getConfiguration().toJson().contains("io.baton"), "the training graph uses Baton's");
            final ComputationGraph inference = InferenceForm.of(training, INPUT);

            final String json = inference.getConfiguration().toJson();
            assertFalse(json.contains("io.baton"), "inference configuration names a Baton class: " + json);
            assertTrue(json.contains("LossMCXENT"), "plain cross-entropy instead of the smoothed one");
            assertEquals(training.numParams(), inference.numParams());
            final INDArray x = ModelExporter.fixedInput(3, INPUT);
            final float[] expected = ModelExporter.floats(training.outputSingle(false, x));
            final float[] actual = ModelExporter.floats(inference.outputSingle(false, x));
            assertArrayEquals(expected, actual, "bit-identical softmax output, preActivation=" + preActivation);

            final List<ResidualBlock> blocks = ResidualBlocks.describe(inference.getConfiguration(), INPUT);
            assertEquals(ResidualBlocks.describe(training.getConfiguration(), INPUT), blocks);
            assertEquals(List.of("stage2_block1", "stage3_block1"), blocks.stream()
                .filter(b -> b.shortcut() == ShortcutKind.ZERO_PAD).map(ResidualBlock::name).toList());
            assertEquals(List.of(), blocks.stream().filter(ResidualBlock::lacksProjection).toList());
            assertEquals(ShortcutKind.ZERO_PAD,
                ShortcutInspector.shortcutOf(inference.getConfiguration(), "stage2_block1"));
        }
    }

    /**
     * The built-in shortcut also back-propagates as the vertex does (it has no parameters to train), so an exported
     * model that is trained again (baton retrain --from latest.zip) trains the same network.
     */
    @Test
    void shouldGiveTheSameGradientsAsTheZeroPadVertex()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4)
            .shortcut(ShortcutType.A).seed(5).build();
        final ComputationGraph training =
            new ComputationGraph(ResNetZoo.configuration(options, NormLayerFactory.standard(), new NoOp()));
        training.init();
        final ComputationGraph inference = InferenceForm.of(training, INPUT);
        final INDArray x = ModelExporter.fixedInput(3, INPUT);
        final INDArray labels = Nd4j.createFromArray(new float[][]{{0, 1, 0, 0}, {0, 0, 0, 1}});
        for (final ComputationGraph graph : List.of(training, inference))
        {
            graph.setInputs(x);
            graph.setLabels(labels);
            graph.computeGradientAndScore();
        }
        assertEquals(training.score(), inference.score(), 0.0);
        final Map<String, INDArray> expected = training.gradient().gradientForVariable();
        final Map<String, INDArray> actual = inference.gradient().gradientForVariable();
        assertEquals(expected.keySet(), actual.keySet());
        for (final Map.Entry<String, INDArray> e : expected.entrySet())
        {
            assertSameValues(ModelExporter.floats(e.getValue()), ModelExporter.floats(actual.get(e.getKey())),
                "gradient " + e.getKey());
        }
    }

    /** Equal values (==): a zero may differ in sign (0 * a negative value is -0), which no addition can tell. */
    private static void assertSameValues(final float[] expected, final float[] actual, final String what)
    {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++)
        {
            assertTrue(expected[i] == actual[i], what + " value " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    /** Odd sizes, and channel growth by less than, exactly and more than the input's channels (or none). */
    @ParameterizedTest
    @CsvSource({"5, 7, 2, 3", "5, 7, 2, 5", "5, 7, 2, 6", "5, 7, 2, 11", "6, 5, 3, 8", "4, 4, 1, 7"})
    void shouldMatchTheZeroPadVertexOnEveryValue(final int height, final int width, final int stride,
        final int outChannels)
    {
        final InputType input = InputType.convolutional(height, width, 3);
        final ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
            .graphBuilder().addInputs("in").setInputTypes(input)
            .addVertex("pad", new ZeroPadShortcutVertex(stride, outChannels), "in")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "pad")
            .addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("fc").build();
        final ComputationGraph training = new ComputationGraph(conf);
        training.init();
        final ComputationGraph inference = InferenceForm.of(training, input);

        final INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, height, width);
        final INDArray expected = training.feedForward(x, false).get("pad");
        final INDArray actual = inference.feedForward(x, false).get("pad");
        assertArrayEquals(expected.shape(), actual.shape());
        assertSameValues(ModelExporter.floats(expected), ModelExporter.floats(actual), "shortcut output");
        assertFalse(inference.getConfiguration().toJson().contains("io.baton"));
    }

    @Test
    void shouldRefuseAConfigurationThatStillNamesABatonClassNamingTheVertex()
    {
        final ComputationGraph training = smoothedShortcutA(false);
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> InferenceForm.requireNoBatonClass(training.getConfiguration()));
        assertTrue(refused.getMessage().startsWith("refusing to export: vertex '"), refused.getMessage());
        assertTrue(refused.getMessage().contains("io.baton."), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), "one line");
    }
}
