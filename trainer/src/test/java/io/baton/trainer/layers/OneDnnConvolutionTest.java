package io.baton.trainer.layers;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Baton's oneDNN convolution ({@code model.conv-engine = onednn}) against DL4J's layer: forward outputs and every
 * gradient within 1e-5 of DL4J's (relative to the array's largest magnitude; the two round differently: direct
 * convolution here, libnd4j's choice, Winograd for some 3x3 backward passes, there), on strides 1 and 2, kernels 1x1,
 * 3x3 and 7x7, Same and Truncate, with and without bias, identity and ReLU activations; a zoo ResNet-20 trains 3 steps
 * to parameters within float rounding of DL4J's; the primitives are kept while the shape stays and rebuilt for a new
 * one. The comparison itself fails on a 1e-4 error (the negative control).
 */
class OneDnnConvolutionTest
{
    private static final double TOLERANCE = 1e-5;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
        assertTrue(OneDnn.available(), "oneDNN's natives must load here: " + OneDnn.unavailableReason());
    }

    @Test
    void identityConvolutionsMatchDl4jWithinFloatRoundingInOutputAndEveryGradient()
    {
        assertCloseToDl4j(graph(Activation.IDENTITY, false, ConvolutionMode.Truncate), 4);
        assertCloseToDl4j(graph(Activation.IDENTITY, true, ConvolutionMode.Same), 4);
    }

    @Test
    void smallBatchesAsOneReplicaOfManyGetsMatchDl4jWithinFloatRounding()
    {
        assertCloseToDl4j(graph(Activation.IDENTITY, true, ConvolutionMode.Same), 1);
        assertCloseToDl4j(graph(Activation.IDENTITY, false, ConvolutionMode.Truncate), 2);
    }

    @Test
    void reluConvolutionsWithBiasMatchDl4jWithinFloatRounding()
    {
        assertCloseToDl4j(graph(Activation.RELU, true, ConvolutionMode.Truncate), 4);
    }

    @Test
    void theComparisonCatchesAGradientErrorOf1eMinus4()
    {
        final INDArray a = Nd4j.randn(DataType.FLOAT, 3, 5);
        assertClose(a, a.dup(), "identical");
        assertThrows(AssertionError.class, () -> assertClose(a, a.mul(1 + 1e-4), "scaled by 1 + 1e-4"));
    }

    @Test
    void aZooResNetTrainsToWithinFloatRoundingOfDl4jsParameters()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(12, 12, 3).numClasses(4).seed(3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options, NormLayerFactory.standard(),
            new Sgd(0.1));
        final ComputationGraph dl4j = new ComputationGraph(conf);
        dl4j.init();
        final ComputationGraph onednn = new ComputationGraph(ReplicaLayers.toReplica(conf,
            ReplicaConvolution.ENGINE_ONEDNN));
        onednn.init(dl4j.params().dup(), true);
        Nd4j.getRandom().setSeed(23);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 12, 12);
        final INDArray y = Nd4j.eye(4).getRows(0, 1, 2, 3, 0, 1).castTo(DataType.FLOAT);
        final INDArray start = dl4j.params().dup();
        for (int step = 0; step < 3; step++)
        {
            dl4j.fit(new INDArray[] {x}, new INDArray[] {y});
            onednn.fit(new INDArray[] {x}, new INDArray[] {y});
        }
        final double moved = dl4j.params().sub(start).norm2Number().doubleValue();
        final double apart = dl4j.params().sub(onednn.params()).norm2Number().doubleValue();
        assertTrue(moved > 1e-2, "the parameters moved: " + moved);
        assertTrue(apart < 1e-4 * moved, "distance " + apart + " vs distance moved " + moved);
        assertTrue(apart > 0, "oneDNN's direct convolutions were used (DL4J's would give the same bits)");
        int served = 0;
        for (final Layer layer : onednn.getLayers())
        {
            if (layer instanceof ReplicaConvolutionLayer conv)
            {
                final OneDnnConvHelper helper = assertInstanceOf(OneDnnConvHelper.class, conv.helper());
                served += helper.callsServed()[0] > 0 && helper.callsServed()[1] > 0 ? 1 : 0;
            }
        }
        assertEquals(19, served, "every convolution ran forward and backward on Baton's oneDNN path");
    }

    @Test
    void primitivesAreKeptWhileTheShapeStaysAndRebuiltForANewOne()
    {
        final ComputationGraph graph = new ComputationGraph(ReplicaLayers.toReplica(
            graph(Activation.IDENTITY, true, ConvolutionMode.Same), ReplicaConvolution.ENGINE_ONEDNN));
        graph.init();
        final OneDnnConvHelper helper = (OneDnnConvHelper)((ReplicaConvolutionLayer)graph.getLayer("c1")).helper();
        step(graph, 4);
        final OneDnnConvolution first = plan(helper);
        step(graph, 4);
        assertSame(first, plan(helper), "same shape, same primitives");
        step(graph, 3);
        assertNotSame(first, plan(helper), "a new batch size needs new primitives");
        assertEquals(3, plan(helper).shape().batch());
        assertTrue(helper.implementations().contains("backward-weights="), helper.implementations());
    }

    @Test
    void callsItCannotServeGoToDl4jsHelperAndGiveItsResultsBitForBit()
    {
        // NHWC is not Baton's oneDNN path: the helper hands the calls to DL4J's helper it wraps
        final ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new NoOp())
            .dataType(DataType.FLOAT).graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(9, 9, 3, org.deeplearning4j.nn.conf.CNN2DFormat.NHWC))
            .addLayer("c1", new ConvolutionLayer.Builder().nIn(3).nOut(8).kernelSize(3, 3).stride(1, 1)
                .padding(1, 1).dataFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC).activation(Activation.IDENTITY)
                .build(), "in")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c1")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(4)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
        final ComputationGraph dl4j = new ComputationGraph(conf);
        dl4j.init();
        final ComputationGraph onednn = new ComputationGraph(ReplicaLayers.toReplica(conf,
            ReplicaConvolution.ENGINE_ONEDNN));
        onednn.init(dl4j.params().dup(), true);
        final OneDnnConvHelper helper = assertInstanceOf(OneDnnConvHelper.class,
            ((ReplicaConvolutionLayer)onednn.getLayer("c1")).helper());
        Nd4j.getRandom().setSeed(3);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 2, 9, 9, 3);
        final INDArray y = Nd4j.eye(4).getRows(0, 1).castTo(DataType.FLOAT);
        dl4j.setInputs(x);
        dl4j.setLabels(y);
        dl4j.computeGradientAndScore();
        onednn.setInputs(x);
        onednn.setLabels(y);
        onednn.computeGradientAndScore();
        assertEquals(dl4j.score(), onednn.score());
        org.junit.jupiter.api.Assertions.assertArrayEquals(dl4j.gradient().gradient().dup('c').data().asFloat(),
            onednn.gradient().gradient().dup('c').data().asFloat());
        assertEquals(0, helper.callsServed()[0] + helper.callsServed()[1], "nothing ran on Baton's oneDNN path");
    }

    @Test
    void theEngineSurvivesDl4jsJsonRoundTripAndExportsGoBackToDl4jsClass()
    {
        final ComputationGraphConfiguration plain = graph(Activation.IDENTITY, true, ConvolutionMode.Same);
        final ComputationGraphConfiguration replica = ReplicaLayers.toReplica(plain, ReplicaConvolution.ENGINE_ONEDNN);
        final ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(replica.toJson());
        assertEquals(replica, restored);
        assertEquals(ReplicaConvolution.ENGINE_ONEDNN, ((ReplicaConvolution)((LayerVertex)restored.getVertices()
            .get("c1")).getLayerConf().getLayer()).getConvEngine());
        assertEquals(plain.toJson(), ReplicaLayers.toPlain(restored).toJson());
        assertThrows(IllegalArgumentException.class, () -> new ReplicaConvolution().setConvEngine("cudnn"));
    }

    private static OneDnnConvolution plan(final OneDnnConvHelper helper)
    {
        try
        {
            final java.lang.reflect.Field field = OneDnnConvHelper.class.getDeclaredField("plan");
            field.setAccessible(true);
            return (OneDnnConvolution)field.get(helper);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new AssertionError(e);
        }
    }

    private static void step(final ComputationGraph graph, final int batch)
    {
        graph.setInputs(Nd4j.randn(DataType.FLOAT, batch, 3, 15, 15));
        final INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 4);
        for (int i = 0; i < batch; i++)
        {
            y.putScalar(i, i % 4, 1.0);
        }
        graph.setLabels(y);
        graph.computeGradientAndScore();
    }

    /** Four convolutions (7x7 stride 2, 3x3 stride 1, 1x1 stride 2, 3x3 stride 2), global average pooling, softmax. */
    private static ComputationGraphConfiguration graph(final Activation activation, final boolean bias,
        final ConvolutionMode mode)
    {
        return new NeuralNetConfiguration.Builder().seed(5).updater(new NoOp()).dataType(DataType.FLOAT)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(15, 15, 3))
            .addLayer("c0", ReplicaLayersTest.conv(3, 16, 7, 2, 3, activation, bias, mode), "in")
            .addLayer("c1", ReplicaLayersTest.conv(16, 32, 3, 1, 1, activation, bias, mode), "c0")
            .addLayer("c2", ReplicaLayersTest.conv(32, 24, 1, 2, 0, activation, bias, mode), "c1")
            .addLayer("c3", ReplicaLayersTest.conv(24, 5, 3, 2, 1, activation, bias, mode), "c2")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c3")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(4)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
    }

    private static void assertCloseToDl4j(final ComputationGraphConfiguration conf, final int batch)
    {
        final ComputationGraph dl4j = new ComputationGraph(conf);
        dl4j.init();
        final ComputationGraph onednn = new ComputationGraph(ReplicaLayers.toReplica(conf,
            ReplicaConvolution.ENGINE_ONEDNN));
        onednn.init(dl4j.params().dup(), true);
        Nd4j.getRandom().setSeed(17);
        final INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, 15, 15);
        final INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 4);
        for (int i = 0; i < batch; i++)
        {
            y.putScalar(i, (i * 3) % 4, 1.0);
        }
        for (int step = 0; step < 2; step++) // the second step runs on the kept primitives
        {
            final Map<String, INDArray> expected = dl4j.feedForward(new INDArray[] {x}, true, false);
            final Map<String, INDArray> actual = onednn.feedForward(new INDArray[] {x}, true, false);
            for (final String layer : expected.keySet())
            {
                assertClose(expected.get(layer), actual.get(layer), "activations of " + layer);
            }
            dl4j.setInputs(x);
            dl4j.setLabels(y);
            dl4j.computeGradientAndScore();
            onednn.setInputs(x);
            onednn.setLabels(y);
            onednn.computeGradientAndScore();
            assertEquals(dl4j.score(), onednn.score(), 1e-5 * Math.abs(dl4j.score()));
            for (final String key : dl4j.gradient().gradientForVariable().keySet())
            {
                assertClose(dl4j.gradient().getGradientFor(key), onednn.gradient().getGradientFor(key),
                    "gradient " + key);
            }
        }
        for (final String layer : new String[] {"c0", "c1", "c2", "c3"})
        {
            final OneDnnConvHelper helper = assertInstanceOf(OneDnnConvHelper.class,
                ((ReplicaConvolutionLayer)onednn.getLayer(layer)).helper());
            assertTrue(helper.callsServed()[0] >= 2 && helper.callsServed()[1] >= 2,
                layer + " ran on Baton's oneDNN path: " + java.util.Arrays.toString(helper.callsServed()));
        }
    }

    /** max |expected - actual| <= 1e-5 * max |expected| (and the shapes agree). */
    private static void assertClose(final INDArray expected, final INDArray actual, final String what)
    {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        final double scale = expected.amaxNumber().doubleValue();
        final double diff = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber()
            .doubleValue();
        assertTrue(diff <= TOLERANCE * Math.max(scale, 1e-30), what + ": max abs diff " + diff + " at scale "
            + scale);
    }
}
