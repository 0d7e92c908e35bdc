package io.baton.trainer.health;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seed's health checks on a small ResNet: healthy, exploding and dead blocks, and no side effects. */
class HealthCheckTest
{
    private static final InputType INPUT = InputType.convolutional(16, 16, 3);

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static ComputationGraph graph()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4).seed(3).build();
        return ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()), new NoOp());
    }

    private static BatchSource.Batch batch()
    {
        try (PatternBatchSource source = new PatternBatchSource(new PatternImages(3, 4, 16, 16), 32, 3))
        {
            return source.load(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 0, true);
        }
    }

    @Test
    void shouldReportEveryBlockAndStageWithoutChangingTheModel()
    {
        final ComputationGraph graph = graph();
        final float[] before = graph.params().toFloatVector();
        final BatchSource.Batch batch = batch();
        final HealthReport report = new HealthCheck(graph, INPUT, HealthThresholds.DEFAULTS)
            .run(99, batch.features(), batch.labels());

        assertEquals(9, report.blocks().size());
        assertEquals("stage1_block1", report.blocks().get(0).block());
        assertTrue(report.blocks().stream().allMatch(b -> b.maxActivation() > 0 && b.maxActivation() < 100
            && b.deadFraction() >= 0 && b.deadFraction() <= 0.1), report.blocks().toString());
        assertEquals(List.of("stem", "stage1", "stage2", "stage3", "head"), new ArrayList<>(report.stageGradNorms().keySet()));
        assertTrue(report.stageGradNorms().values().stream().allMatch(n -> n > 0 && Double.isFinite(n)),
            report.stageGradNorms().toString());
        assertTrue(report.warnings().isEmpty(), report.warnings().toString());
        assertArrayEquals(before, graph.params().toFloatVector(), "parameters and BN running statistics unchanged");
        assertTrue(report.toJson().startsWith("{\"step\":99,\"blocks\":[{\"block\":\"stage1_block1\",\"max_activation\":"),
            report.toJson());
    }

    @Test
    void shouldNameTheBlockWithLargeActivationsAndTheBlockWithDeadChannels()
    {
        final ComputationGraph graph = graph();
        graph.getLayer("stage3_block3_bn2").getParam("beta").assign(500);
        graph.getLayer("stage1_block2_bn2").getParam("beta").assign(-1000);
        final BatchSource.Batch batch = batch();
        final List<HealthReport> sink = new ArrayList<>();
        final HealthMonitor monitor = new HealthMonitor(new HealthCheck(graph, INPUT, HealthThresholds.DEFAULTS), 5,
            sink::add);

        assertNull(monitor.onStep(3, batch.features(), batch.labels()), "not due after step 3 with K=5");
        final HealthReport report = monitor.onStep(4, batch.features(), batch.labels());

        assertEquals(List.of(report), sink);
        assertTrue(report.warnings().stream().anyMatch(w -> w.startsWith("block stage3_block3: max |activation|")
            && w.endsWith("> 100.0")), report.warnings().toString());
        assertTrue(report.warnings().contains("block stage1_block2: 100.0% of ReLU channels dead > 10.0%"),
            report.warnings().toString());
        // Dead outputs propagate downstream, so later blocks may be named too; the healthy first block is not.
        assertTrue(report.warnings().stream().noneMatch(w -> w.startsWith("block stage1_block1")),
            "healthy blocks are not named: " + report.warnings());
    }

    @Test
    void shouldFindNonFiniteAndNonPositiveRunningStatistics()
    {
        final ComputationGraph graph = graph();
        assertTrue(BnStatsCheck.problems(graph, 1000).isEmpty());
        final String varKey = graph.getLayer("stage2_block1_bn1").paramTable().containsKey("var") ? "var" : "log10stdev";
        graph.getLayer("stage2_block1_bn1").getParam(varKey).putScalar(5,
            varKey.equals("var") ? -1.0 : Double.NEGATIVE_INFINITY);
        graph.getLayer("stage3_block2_bn2").getParam("mean").putScalar(0, 5000);
        final List<String> problems = BnStatsCheck.problems(graph, 1000);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("BN layer stage2_block1_bn1 channel 5 of 32: running variance"),
            problems.toString());
        assertEquals("BN layer stage3_block2_bn2 channel 0 of 64: running mean 5000.00 exceeds +-1000.00",
            problems.get(1));
    }
}
