package io.baton.trainer.recipe;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.layers.ReplicaActivationLayer;
import io.baton.trainer.layers.ReplicaConvolutionLayer;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.LossSmoothedMcxent;
import io.baton.trainer.optim.ParamKind;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.replica.SynchronousStep;
import io.baton.trainer.replica.ThreadCommunicator;
import io.baton.trainer.schedule.DecayKind;
import io.baton.trainer.schedule.LrSchedule;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config -> objects factory: schedule, optimiser settings and the replica graph follow the keys. */
class TrainingRecipeTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldBuildScheduleAndOptimiserSettingsFromTheKeys()
    {
        final BatonConfig config = loader.load(null, List.of("optim.base-lr=0.2", "optim.base-batch=64",
            "train.global-batch=256", "train.replicas=4", "train.epochs=20", "optim.warmup-epochs=2",
            "optim.warmup-start-factor=0.25", "optim.schedule=cosine", "optim.momentum=0.8", "optim.nesterov=true",
            "optim.weight-decay=5e-4", "optim.lars=true", "optim.lars-trust-coefficient=0.002",
            "optim.max-grad-norm=3.5"));
        final LrSchedule schedule = TrainingRecipe.schedule(config);
        final LrSchedule expected = new LrSchedule(0.2, 64, 256, 2, 0.25, DecayKind.COSINE, new int[] {5, 8}, 0.1, 20);
        for (final long step : new long[] {0, 7, 20, 21, 100, 199})
        {
            assertEquals(expected.lr(step, 10), schedule.lr(step, 10), 0.0, "step " + step);
        }
        assertEquals(0.8, schedule.scaledLr(), 1e-12);
        assertEquals(new SgdSettings(0.8, true, 5e-4, true, 0.002, 3.5), TrainingRecipe.sgdSettings(config));
    }

    @Test
    void shouldBuildTheReplicaGraphWithSyncBatchNormGroupsAndSmoothedLoss()
    {
        final BatonConfig config = loader.load(null, List.of("model.syncbn=true", "train.replicas=4",
            "syncbn.group-size=2", "optim.label-smoothing=0.1"));
        final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 10);
        int syncBn = 0;
        for (final Layer layer : graph.getLayers())
        {
            final org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof BatchNormalization)
            {
                final SyncBatchNorm sync = assertInstanceOf(SyncBatchNorm.class, conf);
                assertEquals(2, sync.getGroupSize());
                syncBn++;
            }
        }
        assertEquals(19, syncBn);
        assertEquals(19, layers(graph, ReplicaConvolutionLayer.class), "model.fast-layers is on by default");
        assertEquals(19, layers(graph, ReplicaActivationLayer.class));
        final BaseOutputLayer out = (BaseOutputLayer)graph.getLayer("fc").conf().getLayer();
        assertEquals(0.1, assertInstanceOf(LossSmoothedMcxent.class, out.getLossFn()).smoothing());

        final LargeBatchSgd sgd = TrainingRecipe.optimizer(config, graph);
        assertEquals(graph.numParams(), sgd.momentumBuffer().length());
        assertEquals(ParamKind.WEIGHT, sgd.layout().segment("stem_conv_W").kind());
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new SynchronousStep(graph, ThreadCommunicator.world(1, 1000).get(0), 0));
        assertTrue(ex.getMessage().contains("construct SynchronousStep with a LargeBatchSgd"), ex.getMessage());
    }

    @Test
    void shouldUsePlainBatchNormAndCrossEntropyWhenSwitchedOff()
    {
        final BatonConfig config = loader.load(null, List.of("model.syncbn=false"));
        final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 10);
        for (final Layer layer : graph.getLayers())
        {
            assertFalse(layer.conf().getLayer() instanceof SyncBatchNorm);
        }
        final BaseOutputLayer out = (BaseOutputLayer)graph.getLayer("fc").conf().getLayer();
        assertFalse(out.getLossFn() instanceof LossSmoothedMcxent);
    }

    @Test
    void shouldKeepDl4jsLayersWhenFastLayersAreOff()
    {
        final BatonConfig config = loader.load(null, List.of("model.fast-layers=false"));
        final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 10);
        assertEquals(0, layers(graph, ReplicaConvolutionLayer.class) + layers(graph, ReplicaActivationLayer.class));
        assertEquals(19, layers(graph, org.deeplearning4j.nn.layers.convolution.ConvolutionLayer.class));
        assertEquals(19, layers(graph, org.deeplearning4j.nn.layers.ActivationLayer.class));
    }

    private static int layers(final ComputationGraph graph, final Class<?> kind)
    {
        int count = 0;
        for (final Layer layer : graph.getLayers())
        {
            count += layer.getClass() == kind ? 1 : 0;
        }
        return count;
    }
}
