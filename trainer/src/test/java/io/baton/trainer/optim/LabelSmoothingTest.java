package io.baton.trainer.optim;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Label-smoothed cross-entropy: value and gradient against hand computation, config swap and JSON round trip. */
class LabelSmoothingTest
{
    private static final int K = 5;
    private static final double EPS = 0.1;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldComputeTheSmoothedCrossEntropyAndItsGradient()
    {
        Nd4j.getRandom().setSeed(9);
        final INDArray logits = Nd4j.randn(DataType.DOUBLE, 4, K).muli(2);
        final INDArray labels = Nd4j.zeros(DataType.DOUBLE, 4, K);
        final int[] classes = {0, 3, 4, 3};
        for (int r = 0; r < classes.length; r++)
        {
            labels.putScalar(r, classes[r], 1.0);
        }
        double expected = 0;
        final double[][] grad = new double[4][K];
        for (int r = 0; r < 4; r++)
        {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < K; k++)
            {
                max = Math.max(max, logits.getDouble(r, k));
            }
            double z = 0;
            for (int k = 0; k < K; k++)
            {
                z += Math.exp(logits.getDouble(r, k) - max);
            }
            for (int k = 0; k < K; k++)
            {
                final double p = Math.exp(logits.getDouble(r, k) - max) / z;
                final double target = (k == classes[r] ? 1 - EPS : 0) + EPS / K;
                expected -= target * Math.log(p) / 4;
                grad[r][k] = p - target;
            }
        }
        final LossSmoothedMcxent loss = new LossSmoothedMcxent(EPS);
        final double score = loss.computeScore(labels, logits.dup(), new ActivationSoftmax(), null, true);
        assertEquals(expected, score, 1e-9);
        final INDArray g = loss.computeGradient(labels, logits.dup(), new ActivationSoftmax(), null);
        for (int r = 0; r < 4; r++)
        {
            for (int k = 0; k < K; k++)
            {
                assertEquals(grad[r][k], g.getDouble(r, k), 1e-9);
            }
        }
        final double plain = new LossMCXENT().computeScore(labels, logits.dup(), new ActivationSoftmax(), null, true);
        assertEquals(plain, new LossSmoothedMcxent(0).computeScore(labels, logits.dup(), new ActivationSoftmax(),
            null, true), 1e-12);
        assertEquals(1 - EPS + EPS / K, loss.smooth(labels).getDouble(1, 3), 1e-15);
    }

    @Test
    void shouldSwapTheZooOutputLossAndSurviveJson()
    {
        final ComputationGraphConfiguration conf =
            ResNetZoo.configuration(ModelOptions.builder("resnet20").input(16, 16, 3).build());
        assertEquals(1, LabelSmoothing.apply(conf, EPS));
        final ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        final BaseOutputLayer out = (BaseOutputLayer)((LayerVertex)back.getVertices().get("fc")).getLayerConf()
            .getLayer();
        final LossSmoothedMcxent lossFn = assertInstanceOf(LossSmoothedMcxent.class, out.getLossFn());
        assertEquals(EPS, lossFn.smoothing());
        assertEquals(0, LabelSmoothing.apply(conf, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new LossSmoothedMcxent(1.0));
    }
}
