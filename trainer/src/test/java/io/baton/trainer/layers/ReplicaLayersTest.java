package io.baton.trainer.layers;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.syncbn.PlainBatchNormSwap;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Baton's layer implementations compute DL4J's layers bit for bit: a ResNet-20 of the zoo trains to the same bits
 * with and without them, {@link ReplicaActivation} gives DL4J's ReLU (and keeps DL4J's path for other activations), and
 * {@link ReplicaConvolution} computes DL4J's convolution bit for bit (forward output and every parameter gradient,
 * which for c1 and c2 depend on the input gradients c2 and c3 pass down) and runs the forward convolution once per training step, where DL4J's layer runs
 * it twice; a ReLU convolution, which needs the forward output in backprop, keeps DL4J's path (the negative control
 * of the count).
 */
class ReplicaLayersTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void identityConvolutionsMatchDl4jBitForBitInOutputAndEveryGradient()
    {
        assertSameAsDl4j(graph(Activation.IDENTITY, false, ConvolutionMode.Truncate));
        assertSameAsDl4j(graph(Activation.IDENTITY, true, ConvolutionMode.Same));
    }

    @Test
    void reluConvolutionsKeepDl4jsPathAndMatchItBitForBit()
    {
        assertSameAsDl4j(graph(Activation.RELU, true, ConvolutionMode.Truncate));
    }

    @Test
    void aZooResNetTrainsToTheSameBitsWithBatonsLayersAsWithDl4jsOwn()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(12, 12, 3).numClasses(4).seed(3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options, NormLayerFactory.standard(),
            new Sgd(0.1));
        final ComputationGraphConfiguration replicaConf = ReplicaLayers.toReplica(conf);
        assertEquals(19 + 19, ReplicaLayers.countReplicaLayers(replicaConf), "19 convolutions and 19 ReLUs");
        assertEquals(9, ReplicaLayers.countFusedRelus(replicaConf), "the post-add ReLUs (DL4J's BN is no producer)");
        final ComputationGraph dl4j = new ComputationGraph(conf);
        dl4j.init();
        final ComputationGraph replica = new ComputationGraph(replicaConf);
        replica.init(dl4j.params().dup(), true);
        Nd4j.getRandom().setSeed(23);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 12, 12);
        final INDArray y = Nd4j.eye(4).getRows(0, 1, 2, 3, 0, 1).castTo(DataType.FLOAT);
        for (int step = 0; step < 3; step++)
        {
            dl4j.fit(new INDArray[] {x}, new INDArray[] {y});
            replica.fit(new INDArray[] {x}, new INDArray[] {y});
            assertEquals(dl4j.score(), replica.score(), "loss of step " + step);
            assertArrayEquals(floats(dl4j.params()), floats(replica.params()), "parameters after step " + step);
        }
    }

    @Test
    void aSyncBatchNormResNetWithItsReluFoldedIntoBnAndAddsTrainsToTheSameBitsAsWithoutAndInfersTheSame()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(12, 12, 3).numClasses(4).seed(3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options,
            spec -> spec.applyTo(new SyncBatchNorm()), new Sgd(0.1));
        final ComputationGraphConfiguration fusedConf = ReplicaLayers.toReplica(conf, ReplicaConvolution.ENGINE_DL4J);
        final ComputationGraphConfiguration apartConf = ReplicaLayers.toReplica(conf, ReplicaConvolution.ENGINE_DL4J,
            false);
        assertEquals(19, ReplicaLayers.countFusedRelus(fusedConf), "10 ReLUs after a BN and 9 after an add");
        assertEquals(0, ReplicaLayers.countFusedRelus(apartConf));
        final ComputationGraph fused = new ComputationGraph(fusedConf);
        fused.init();
        final ComputationGraph apart = new ComputationGraph(apartConf);
        apart.init(fused.params().dup(), true);
        Nd4j.getRandom().setSeed(29);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 12, 12);
        final INDArray y = Nd4j.eye(4).getRows(0, 1, 2, 3, 0, 1).castTo(DataType.FLOAT);
        for (int step = 0; step < 3; step++)
        {
            fused.fit(new INDArray[] {x}, new INDArray[] {y});
            apart.fit(new INDArray[] {x}, new INDArray[] {y});
            assertEquals(apart.score(), fused.score(), "loss of step " + step);
            assertArrayEquals(floats(apart.params()), floats(fused.params()), "parameters after step " + step);
        }
        // Training-mode activations outside fit (DL4J's per-layer workspaces, as ActivationProbe runs them) and
        // inference: every vertex's output the same, the folded BN's included (rectified in training only).
        for (final boolean training : new boolean[] {true, false})
        {
            final Map<String, INDArray> expected = apart.feedForward(new INDArray[] {x}, training, false);
            final Map<String, INDArray> actual = fused.feedForward(new INDArray[] {x}, training, false);
            for (final String vertex : expected.keySet())
            {
                final INDArray want = training && isFusedProducer(fusedConf, vertex)
                    ? Nd4j.getExecutioner().exec(new RectifiedLinear(expected.get(vertex).dup(),
                        expected.get(vertex).ulike()))
                    : expected.get(vertex);
                assertArrayEquals(floats(want), floats(actual.get(vertex)), vertex + ", training=" + training);
            }
        }
    }

    @Test
    void reluFoldingNeedsAProducerThatCanApplyItAndAPlainReluAsItsOnlyConsumer()
    {
        final ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new NoOp())
            .dataType(DataType.FLOAT).graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(9, 9, 3))
            .addLayer("c1", conv(3, 8, 3, 1, 1, Activation.IDENTITY, false, ConvolutionMode.Same), "in")
            .addLayer("bn_shared", syncBn(8), "c1")
            .addLayer("bn_shared_relu", new ActivationLayer(Activation.RELU), "bn_shared")
            .addLayer("c2", conv(8, 8, 3, 1, 1, Activation.IDENTITY, false, ConvolutionMode.Same), "bn_shared_relu")
            .addLayer("bn_leaky", syncBn(8), "c2")
            .addLayer("bn_leaky_act", new ActivationLayer(Activation.LEAKYRELU), "bn_leaky")
            .addLayer("bn_dropout", syncBn(8), "bn_leaky_act")
            .addLayer("bn_dropout_act", new ActivationLayer.Builder().activation(Activation.RELU).dropOut(0.5)
                .build(), "bn_dropout")
            .addLayer("bn_fused", syncBn(8), "bn_dropout_act")
            .addLayer("bn_fused_relu", new ActivationLayer(Activation.RELU), "bn_fused")
            .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn_fused_relu", "bn_shared")
            .addLayer("add_relu", new ActivationLayer(Activation.RELU), "add")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "add_relu")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(4)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
        final ComputationGraphConfiguration replica = ReplicaLayers.toReplica(conf, ReplicaConvolution.ENGINE_DL4J);
        assertFalse(isFusedProducer(replica, "bn_shared"), "two consumers: its ReLU and the add");
        assertFalse(isFusedProducer(replica, "bn_leaky"), "a leaky ReLU is not ReLU");
        assertFalse(isFusedProducer(replica, "bn_dropout"), "the ReLU layer applies dropout");
        assertTrue(isFusedProducer(replica, "bn_fused"));
        assertTrue(isFusedProducer(replica, "add"));
        assertEquals(2, ReplicaLayers.countFusedRelus(replica));
        assertNotEquals(ReplicaLayers.toReplica(conf, ReplicaConvolution.ENGINE_DL4J, false), replica,
            "the flags are part of the configuration");
        final ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(replica.toJson());
        assertEquals(replica, restored);
        assertInstanceOf(ReplicaAdd.class, restored.getVertices().get("add"));
        assertEquals(PlainBatchNormSwap.toPlainBatchNorm(conf).toJson(),
            ReplicaLayers.toPlain(PlainBatchNormSwap.toPlainBatchNorm(restored)).toJson(),
            "back to DL4J's classes, nothing of Baton's left");
    }

    @Test
    void aReluThatPassesOnAnUnrectifiedInputIsCaughtByTheComparison()
    {
        // Negative control of the bit comparisons above: mark a ReLU as fed by a rectified input while its
        // producer (a BN the folding leaves alone, since it has two consumers) does not rectify.
        final ModelOptions options = ModelOptions.builder("resnet20").input(12, 12, 3).numClasses(4).seed(3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options,
            spec -> spec.applyTo(new SyncBatchNorm()), new Sgd(0.1));
        final ComputationGraphConfiguration broken = ReplicaLayers.toReplica(conf, ReplicaConvolution.ENGINE_DL4J,
            false);
        int marked = 0;
        for (final GraphVertex vertex : broken.getVertices().values())
        {
            if (vertex instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ReplicaActivation a)
            {
                a.setInputRectified(true);
                marked++;
            }
        }
        assertEquals(19, marked);
        final ComputationGraph apart = new ComputationGraph(ReplicaLayers.toReplica(conf,
            ReplicaConvolution.ENGINE_DL4J, false));
        apart.init();
        final ComputationGraph wrong = new ComputationGraph(broken);
        wrong.init(apart.params().dup(), true);
        Nd4j.getRandom().setSeed(29);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 12, 12);
        final INDArray y = Nd4j.eye(4).getRows(0, 1, 2, 3, 0, 1).castTo(DataType.FLOAT);
        apart.fit(new INDArray[] {x}, new INDArray[] {y});
        wrong.fit(new INDArray[] {x}, new INDArray[] {y});
        assertFalse(java.util.Arrays.equals(floats(apart.params()), floats(wrong.params())));
    }

    private static boolean isFusedProducer(final ComputationGraphConfiguration conf, final String vertex)
    {
        final GraphVertex v = conf.getVertices().get(vertex);
        if (v instanceof ReplicaAdd add)
        {
            return add.isFusedRelu();
        }
        return v instanceof LayerVertex layer && layer.getLayerConf().getLayer() instanceof ReluFusible f
            && f.isFusedRelu();
    }

    private static SyncBatchNorm syncBn(final int channels)
    {
        final SyncBatchNorm bn = new SyncBatchNorm();
        bn.setNIn(channels);
        bn.setNOut(channels);
        return bn;
    }

    @Test
    void leakyReluActivationLayersKeepDl4jsPathAndMatchItBitForBit()
    {
        final ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).updater(new NoOp())
            .dataType(DataType.FLOAT).graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(9, 9, 3))
            .addLayer("c1", conv(3, 8, 3, 1, 1, Activation.IDENTITY, false, ConvolutionMode.Truncate), "in")
            .addLayer("c1_act", new ActivationLayer(Activation.LEAKYRELU), "c1")
            .addLayer("c2", conv(8, 6, 3, 1, 1, Activation.IDENTITY, false, ConvolutionMode.Truncate), "c1_act")
            .addLayer("c3", conv(6, 5, 3, 2, 1, Activation.IDENTITY, true, ConvolutionMode.Truncate), "c2")
            .addLayer("c3_act", new ActivationLayer(Activation.RELU), "c3")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c3_act")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(4)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
        final ComputationGraph replica = new ComputationGraph(ReplicaLayers.toReplica(conf));
        replica.init();
        assertFalse(((ReplicaActivationLayer)replica.getLayer("c1_act")).plainRelu());
        assertTrue(((ReplicaActivationLayer)replica.getLayer("c3_act")).plainRelu());
        assertSameAsDl4j(conf);
    }

    @Test
    void backpropDoesNotRunTheForwardConvolutionAgainForIdentityActivations()
    {
        assertEquals(1, forwardConvolutionsPerLayerPerStep(Activation.IDENTITY));
        assertEquals(2, forwardConvolutionsPerLayerPerStep(Activation.RELU), "DL4J's path recomputes it");
    }

    @Test
    void swapRoundTripsThroughJsonAndBackToDl4jsClass()
    {
        final ComputationGraphConfiguration plain = graph(Activation.IDENTITY, true, ConvolutionMode.Same);
        final ComputationGraphConfiguration replica = ReplicaLayers.toReplica(plain);
        assertEquals(3, ReplicaLayers.countReplicaLayers(replica));
        assertInstanceOf(ReplicaConvolution.class, ((LayerVertex)replica.getVertices().get("c1")).getLayerConf()
            .getLayer());
        assertEquals(0, ReplicaLayers.countReplicaLayers(plain), "the argument is not modified");
        final ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(replica.toJson());
        assertEquals(replica, restored);
        final ComputationGraphConfiguration back = ReplicaLayers.toPlain(restored);
        assertEquals(0, ReplicaLayers.countReplicaLayers(back));
        assertEquals(plain.toJson(), back.toJson());
    }

    /** Three convolutions (stride 1, a 1x1 stride 2, a 3x3 stride 2), global average pooling, softmax. */
    private static ComputationGraphConfiguration graph(final Activation activation, final boolean bias,
        final ConvolutionMode mode)
    {
        return new NeuralNetConfiguration.Builder().seed(5).updater(new NoOp()).dataType(DataType.FLOAT)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(9, 9, 3))
            .addLayer("c1", conv(3, 8, 3, 1, 1, activation, bias, mode), "in")
            .addLayer("c2", conv(8, 6, 1, 2, 0, activation, bias, mode), "c1")
            .addLayer("c3", conv(6, 5, 3, 2, 1, activation, bias, mode), "c2")
            .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c3")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(4)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out")
            .build();
    }

    /** A square convolution (Same mode takes no explicit padding); shared with {@link OneDnnConvolutionTest}. */
    static ConvolutionLayer conv(final int nIn, final int nOut, final int kernel, final int stride,
        final int pad, final Activation activation, final boolean bias, final ConvolutionMode mode)
    {
        return new ConvolutionLayer.Builder().nIn(nIn).nOut(nOut).kernelSize(kernel, kernel).stride(stride, stride)
            .padding(mode == ConvolutionMode.Same ? 0 : pad, mode == ConvolutionMode.Same ? 0 : pad)
            .convolutionMode(mode).hasBias(bias).activation(activation).build();
    }

    private static void assertSameAsDl4j(final ComputationGraphConfiguration conf)
    {
        final ComputationGraph dl4j = new ComputationGraph(conf);
        dl4j.init();
        final ComputationGraph replica = new ComputationGraph(ReplicaLayers.toReplica(conf));
        replica.init(dl4j.params().dup(), true);
        assertInstanceOf(ReplicaConvolutionLayer.class, replica.getLayer("c1"));
        Nd4j.getRandom().setSeed(17);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 9, 9);
        final INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 4);
        for (int i = 0; i < 4; i++)
        {
            y.putScalar(i, (i * 3) % 4, 1.0);
        }
        for (int step = 0; step < 2; step++) // the second step runs with the helpers' cached primitives
        {
            final Map<String, INDArray> expected = dl4j.feedForward(new INDArray[] {x}, true, false);
            final Map<String, INDArray> actual = replica.feedForward(new INDArray[] {x}, true, false);
            for (final String layer : expected.keySet())
            {
                assertArrayEquals(floats(expected.get(layer)), floats(actual.get(layer)), "activations of " + layer);
            }
            dl4j.setInputs(x);
            dl4j.setLabels(y);
            dl4j.computeGradientAndScore();
            replica.setInputs(x);
            replica.setLabels(y);
            replica.computeGradientAndScore();
            assertEquals(dl4j.score(), replica.score());
            for (final String key : dl4j.gradient().gradientForVariable().keySet())
            {
                assertArrayEquals(floats(dl4j.gradient().getGradientFor(key)),
                    floats(replica.gradient().getGradientFor(key)), "gradient " + key);
            }
        }
    }

    /** Forward convolutions per layer in one warm training step of the 3-layer graph. */
    private static int forwardConvolutionsPerLayerPerStep(final Activation activation)
    {
        final ComputationGraph graph = new ComputationGraph(ReplicaLayers.toReplica(
            graph(activation, false, ConvolutionMode.Truncate)));
        graph.init();
        graph.setInputs(Nd4j.randn(DataType.FLOAT, 2, 3, 9, 9));
        graph.setLabels(Nd4j.eye(4).getRows(0, 1).castTo(DataType.FLOAT));
        graph.computeGradientAndScore();
        final AtomicInteger forwards = new AtomicInteger();
        int layers = 0;
        for (final Layer layer : graph.getLayers())
        {
            if (layer instanceof ReplicaConvolutionLayer conv)
            {
                assertNotNull(conv.helper(), "this test needs DL4J's oneDNN helper (the CPU backend's default)");
                conv.helper(counting(conv.helper(), forwards));
                layers++;
            }
        }
        graph.computeGradientAndScore();
        assertEquals(0, forwards.get() % layers);
        return forwards.get() / layers;
    }

    private static ConvolutionHelper counting(final ConvolutionHelper helper, final AtomicInteger forwards)
    {
        return (ConvolutionHelper)Proxy.newProxyInstance(ConvolutionHelper.class.getClassLoader(),
            new Class<?>[] {ConvolutionHelper.class}, (proxy, method, args) ->
            {
                if (method.getName().equals("preOutput"))
                {
                    forwards.incrementAndGet();
                }
                try
                {
                    return method.invoke(helper, args);
                }
                catch (final InvocationTargetException e)
                {
                    throw e.getCause();
                }
            });
    }

    private static float[] floats(final INDArray a)
    {
        return a.dup('c').data().asFloat();
    }
}
