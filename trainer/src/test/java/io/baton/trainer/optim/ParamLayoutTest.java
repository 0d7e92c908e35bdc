package io.baton.trainer.optim;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The weight-decay mask of a real zoo network, and a zero-gradient step that only decays conv/FC weights. */
class ParamLayoutTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static ComputationGraph resnet20()
    {
        return ResNetZoo.graph(ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(10).build());
    }

    @Test
    void shouldDecayOnlyConvAndFullyConnectedWeights()
    {
        final ComputationGraph graph = resnet20();
        final ParamLayout layout = ParamLayout.of(graph);
        assertEquals(graph.numParams(), layout.length());
        long weights = 0;
        long running = 0;
        for (final Layer layer : graph.getLayers())
        {
            final org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            for (final Map.Entry<String, INDArray> e : layer.paramTable().entrySet())
            {
                final ParamSegment s = layout.segment(conf.getLayerName() + "_" + e.getKey());
                assertEquals(e.getValue().length(), s.length(), s.name());
                assertTrue(e.getValue().equalsWithEps(graph.params().reshape(graph.numParams())
                    .get(org.nd4j.linalg.indexing.NDArrayIndex.interval(s.offset(), s.end())).reshape(e.getValue().ordering(),
                        e.getValue().shape()), 0), "segment " + s.name() + " is not where its view lives");
                if (conf instanceof BatchNormalization)
                {
                    final boolean affine = e.getKey().equals("gamma") || e.getKey().equals("beta");
                    assertEquals(affine ? ParamKind.NO_DECAY : ParamKind.RUNNING_STAT, s.kind(), s.name());
                    running += affine ? 0 : s.length();
                }
                else if (e.getKey().equals("b"))
                {
                    assertEquals(ParamKind.NO_DECAY, s.kind(), s.name());
                }
                else
                {
                    assertEquals("W", e.getKey(), s.name());
                    assertTrue(conf instanceof ConvolutionLayer || conf instanceof OutputLayer, s.name());
                    assertEquals(ParamKind.WEIGHT, s.kind(), s.name());
                    weights += s.length();
                }
            }
        }
        assertEquals(weights, layout.count(ParamKind.WEIGHT));
        assertEquals(running, layout.count(ParamKind.RUNNING_STAT));
        assertEquals(ParamKind.NO_DECAY, layout.segment("fc_b").kind());
        assertEquals(ParamKind.WEIGHT, layout.segment("fc_W").kind());
        // resnet20: 19 BN layers of 16/32/64 channels, 4 slots each; FC 64x10 + 10.
        assertEquals(10, layout.segment("fc_b").length());
        final boolean[] mask = layout.decayMask();
        long decayed = 0;
        for (final boolean b : mask)
        {
            decayed += b ? 1 : 0;
        }
        assertEquals(weights, decayed);
    }

    @Test
    void shouldShrinkDecayedWeightsAndLeaveBatchNormAndBiasesUnchangedOnAZeroGradient()
    {
        final ComputationGraph graph = resnet20();
        Nd4j.getRandom().setSeed(3);
        graph.params().assign(Nd4j.rand(DataType.FLOAT, graph.params().shape()).addi(0.5));
        final ParamLayout layout = ParamLayout.of(graph);
        final float[] before = graph.params().toFloatVector();
        final double lr = 0.5;
        final double wd = 0.1;
        final LargeBatchSgd sgd = new LargeBatchSgd(layout, SgdSettings.momentum(0.9, false).withWeightDecay(wd));
        sgd.apply(graph.params(), Nd4j.zeros(DataType.FLOAT, graph.params().shape()), 32, 2, lr);
        final float[] after = graph.params().toFloatVector();
        final float shrink = (float)(1 - lr * wd);
        for (final ParamSegment s : layout.segments())
        {
            for (int i = (int)s.offset(); i < s.end(); i++)
            {
                if (s.kind() == ParamKind.WEIGHT)
                {
                    assertEquals(before[i] * shrink, after[i], 1e-6f * Math.abs(before[i]), s.name());
                    assertTrue(Math.abs(after[i]) < Math.abs(before[i]), s.name());
                }
                else
                {
                    assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]),
                        s.name() + " changed by a zero-gradient step");
                }
            }
        }
        assertTrue(layout.count(ParamKind.NO_DECAY) > 0 && layout.count(ParamKind.RUNNING_STAT) > 0);
        assertArrayEquals(new float[] {0f}, new float[] {sgd.momentumBuffer().getFloat(layout.segment("fc_b")
            .offset())});
    }
}
