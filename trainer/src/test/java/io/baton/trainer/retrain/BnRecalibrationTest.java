package io.baton.trainer.retrain;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import io.baton.trainer.health.BnStatsCheck;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Adaptive BN: stale running statistics are replaced by the new data's, weights are untouched. */
class BnRecalibrationTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldReplaceStaleStatisticsSoInferenceMatchesBatchStatistics()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4).seed(2).build();
        final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()), new NoOp());
        try (PatternBatchSource source = new PatternBatchSource(new PatternImages(2, 4, 16, 16), 256, 2))
        {
            final Layer stem = graph.getLayer("stem_bn");
            stem.getParam("mean").assign(40.0);
            final INDArray x = source.load(IntStream.range(0, 128).toArray(), 0, true).features();
            final double staleGap = gap(graph, x);

            final float[] weightsBefore = graph.getLayer("stage1_block1_conv1").getParam("W").dup().data().asFloat();
            final int layers = BnRecalibration.recalibrate(graph, source, 8, 32, 5);

            assertEquals(BnStatsCheck.countLayers(graph), layers);
            assertTrue(BnStatsCheck.problems(graph, 1000).isEmpty(), BnStatsCheck.problems(graph, 1000).toString());
            assertTrue(Math.abs(stem.getParam("mean").getDouble(0)) < 5, "stale mean 40 replaced: "
                + stem.getParam("mean"));
            final double recalibratedGap = gap(graph, x);
            assertTrue(recalibratedGap < 0.1 && recalibratedGap < staleGap / 4,
                "inference with recalibrated statistics approaches batch statistics: gap " + recalibratedGap
                    + " (stale " + staleGap + ")");
            assertArrayEquals(weightsBefore, graph.getLayer("stage1_block1_conv1").getParam("W").dup().data().asFloat(),
                "no weight changes");
            assertThrows(IllegalArgumentException.class, () -> BnRecalibration.recalibrate(graph, source, 0, 32, 5));
        }
    }

    /** Max |inference output - training-mode output| over a batch: small when running stats fit the data. */
    private static double gap(final ComputationGraph graph, final INDArray x)
    {
        final INDArray inference = graph.outputSingle(false, x);
        final INDArray batchStats = graph.outputSingle(true, x);
        return inference.sub(batchStats).amaxNumber().doubleValue();
    }
}
