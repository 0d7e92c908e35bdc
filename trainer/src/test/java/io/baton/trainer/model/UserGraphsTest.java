package io.baton.trainer.model;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.optim.ParamKind;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph Baton did not build: what is refused (by name), what the replica form changes (BN to SyncBatchNorm with the
 * same parameters, DL4J updaters and regularisation to none), and that weight decay follows what a parameter is, not
 * what its layer is called.
 */
class UserGraphsTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    /** A conv net whose layer names mislead on purpose: "bias" is a convolution, "weights" a BatchNormalization. */
    private static NeuralNetConfiguration.Builder base()
    {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT).updater(new Adam(1e-3))
            .l2(1e-4).activation(Activation.IDENTITY);
    }

    private static ComputationGraphConfiguration graph(final Layer extra)
    {
        final ComputationGraphConfiguration.GraphBuilder b = base().graphBuilder().addInputs("in")
            .setInputTypes(InputType.convolutional(8, 8, 3))
            .addLayer("bias", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "in")
            .addLayer("weights", new BatchNormalization.Builder().build(), "bias");
        b.addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "weights");
        String last = "pool";
        if (extra != null)
        {
            b.addLayer("extra", extra, last);
            last = "extra";
        }
        return b.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build(), last)
            .setOutputs("out").build();
    }

    private static ComputationGraph init(final ComputationGraphConfiguration conf)
    {
        final ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    private static final int[] CHW = {3, 8, 8};

    @Test
    void aPlainConvNetWithBatchNormIsAccepted()
    {
        assertEquals(List.of(), UserGraphs.problems(init(graph(null)), CHW, 3));
    }

    @Test
    void dropoutFrozenAndRecurrentLayersAreRefusedByName()
    {
        final ComputationGraph dropout = init(base().graphBuilder().addInputs("in")
            .setInputTypes(InputType.convolutional(8, 8, 3))
            .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).dropOut(0.5).build(), "in")
            .addLayer("pool", new GlobalPoolingLayer(PoolingType.AVG), "conv")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build(), "pool")
            .setOutputs("out").build());
        assertTrue(String.join("; ", UserGraphs.problems(dropout, CHW, 3)).contains("layer 'conv' uses dropout"));

        final ComputationGraph frozen = init(graph(new FrozenLayer(new BatchNormalization.Builder().build())));
        assertTrue(String.join("; ", UserGraphs.problems(frozen, CHW, 3)).contains("layer 'extra' is frozen"));

        final ComputationGraph recurrent = init(base().graphBuilder().addInputs("in")
            .setInputTypes(InputType.recurrent(3))
            .addLayer("lstm", new LSTM.Builder().nOut(4).build(), "in")
            .addLayer("out", new org.deeplearning4j.nn.conf.layers.RnnOutputLayer.Builder(
                LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build(), "lstm")
            .setOutputs("out").build());
        final String problems = String.join("; ", UserGraphs.problems(recurrent, CHW, 3));
        assertTrue(problems.contains("layer 'lstm' (LSTM) has state beyond parameters"), problems);
    }

    @Test
    void theReplicaFormSwapsBatchNormAndDropsDl4jTrainingButKeepsEveryParameter(@TempDir final Path dir)
    {
        final ComputationGraph user = init(graph(new DenseLayer.Builder().nOut(5).build()));
        user.params().addi(0.25); // weights a user trained: they must arrive unchanged
        final String zip = dir.resolve("user.zip").toString();
        UserGraphs.write(user, zip);
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null, List.of("model.graph=" + zip));
        final ComputationGraph replica = TrainingRecipe.replicaGraph(config, null, null);
        assertArrayEquals(user.params().data().asFloat(), replica.params().data().asFloat());
        int syncBn = 0;
        for (final var vertex : replica.getConfiguration().getVertices().values())
        {
            if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseLayer layer)
            {
                assertTrue(layer.getIUpdater() instanceof NoOp, layer.getLayerName() + ": " + layer.getIUpdater());
                assertTrue(layer.getRegularization().isEmpty(), layer.getLayerName());
                syncBn += layer instanceof SyncBatchNorm ? 1 : 0;
                assertTrue(!(layer instanceof BatchNormalization) || layer instanceof SyncBatchNorm);
            }
        }
        assertEquals(1, syncBn);
        final String note = UserGraphs.replacedSettings(user.getConfiguration());
        assertTrue(note.contains("updater(s) Adam") && note.contains("regularisation"), note);
        assertNull(UserGraphs.replacedSettings(replica.getConfiguration()));
        assertEquals(UserGraphs.identity(user), UserGraphs.identity(UserGraphs.load(zip)));
    }

    @Test
    void weightDecayFollowsWhatAParameterIsNotItsLayersName()
    {
        final ParamLayout layout = ParamLayout.of(init(graph(new DenseLayer.Builder().nOut(5).build())));
        assertEquals(ParamKind.WEIGHT, layout.segment("bias_W").kind(), "a convolution's kernel named 'bias'");
        assertEquals(ParamKind.NO_DECAY, layout.segment("bias_b").kind());
        assertEquals(ParamKind.NO_DECAY, layout.segment("weights_gamma").kind(), "a BN gamma named 'weights'");
        assertEquals(ParamKind.NO_DECAY, layout.segment("weights_beta").kind());
        assertEquals(ParamKind.RUNNING_STAT, layout.segment("weights_mean").kind());
        assertEquals(ParamKind.WEIGHT, layout.segment("extra_W").kind());
        assertEquals(ParamKind.NO_DECAY, layout.segment("extra_b").kind());
    }
}
