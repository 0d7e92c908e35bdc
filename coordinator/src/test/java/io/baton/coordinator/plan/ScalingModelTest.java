package io.baton.coordinator.plan;

import io.baton.coordinator.plan.ScalingAssumptions.SyncBnScaling;
import io.baton.trainer.model.ModelOptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScalingModelTest
{
    private static final double PUBLISHED_EFFICIENCY = 0.90;

    @Test
    void ringAllReduceMovesTwiceTheBufferOverTheLinkAtTheGivenEfficiency()
    {
        final ScalingAssumptions a = ScalingAssumptions.baton(100, 32).withRingEfficiency(0.5);
        // 2 (4 - 1) / 4 x 1e9 bytes x 8 / (100e9 x 0.5) = 0.24 s
        assertEquals(240.0, ScalingModel.allReduceMs(1_000_000_000L, 4, 100, a), 1e-9);
        assertEquals(0.0, ScalingModel.allReduceMs(1_000_000_000L, 1, 100, a));
    }

    @Test
    void ringInsideOneNodeUsesTheIntraNodeLinkAndAcrossNodesTheNodeLink()
    {
        final ScalingAssumptions a = ScalingAssumptions.baton(100, 32).withRingEfficiency(1).withNodes(8, 400);
        assertEquals(1.75 * 8 / 400.0 * 1000, ScalingModel.allReduceMs(1_000_000_000L, 8, 25, a), 1e-9);
        assertEquals(2.0 * 15 / 16 * 8 / 25.0 * 1000, ScalingModel.allReduceMs(1_000_000_000L, 16, 25, a), 1e-9);
    }

    @Test
    void stepIsComputePlusExposedAllReducePlusSyncBn()
    {
        final ScalingAssumptions a = ScalingAssumptions.baton(100, 50).withRingEfficiency(1)
            .withSyncBn(10, SyncBnScaling.LOG).withOverlap(0.5);
        final Projection p = ScalingModel.project(1_000_000_000L, 100, 8, 100, a);
        assertEquals(500.0, p.computeMs(), 1e-9);
        assertEquals(140.0, p.allReduceMs(), 1e-9); // 1.75 x 8 Gbit / 100 Gbit/s
        assertEquals(0.0, p.exposedAllReduceMs(), 1e-9); // hidden by 0.5 x 2/3 x 500 ms = 167 ms
        assertEquals(2 * 100 * 0.010 * 3, p.syncBnMs(), 1e-9); // log2(8) = 3
        assertEquals(506.0, p.stepMs(), 1e-9);
        assertEquals(500.0 / 506.0, p.efficiency(), 1e-12);
        assertEquals(8 * 50 / 0.506, p.imagesPerSec(), 1e-6);
        final Projection linear = ScalingModel.project(1_000_000_000L, 100, 8, 100,
            a.withSyncBn(10, SyncBnScaling.LINEAR).withOverlap(0));
        assertEquals(2 * 100 * 0.010 * 7, linear.syncBnMs(), 1e-9);
        assertEquals(640.0 + 14.0, linear.stepMs(), 1e-9);
    }

    @Test
    void efficiencyFallsWithReplicasAndRisesWithLinkRate()
    {
        final ModelFacts facts = ModelFacts.of(ModelOptions.builder("resnet152").build(), 32);
        final ScalingAssumptions a = ScalingAssumptions.baton(100, 32);
        double previous = 1;
        for (final int n : List.of(8, 64, 512))
        {
            final double e = ScalingModel.project(facts.gradientBytes(), facts.bnLayers(), n, 25, a).efficiency();
            assertTrue(e < previous, "efficiency at " + n + " = " + e);
            previous = e;
            assertTrue(ScalingModel.project(facts.gradientBytes(), facts.bnLayers(), n, 400, a).efficiency() > e);
        }
    }

    @Test
    void resnet152FactsMatchTheZoo()
    {
        final ModelFacts facts = ModelFacts.of(ModelOptions.builder("resnet152").build(), 32);
        assertEquals(60_344_232L, facts.dl4jParams());
        assertEquals(4 * 60_344_232L, facts.gradientBytes());
        assertEquals(155, facts.bnLayers()); // 1 stem + 3 x 50 bottleneck blocks + 4 projection shortcuts
        assertTrue(facts.trainingMemoryBytes() > facts.gradientBytes() * 2, "memory " + facts.trainingMemoryBytes());
    }

    /**
     * Goyal et al. 2017, section 5: ResNet-50 (~100 MB of float gradients), backprop on one P100 takes 120 ms, and
     * all-reduce moves about twice the buffer, so overlapping it with backprop needs ~200 MB per 0.125 s = 12.8
     * Gbit/s, within their 50 Gbit Ethernet. The model's "link to hide" must reproduce that (ring efficiency 1,
     * 256 GPUs, 8 per server) within 10 %.
     */
    @Test
    void reproducesGoyalBandwidthSanityCheck()
    {
        final ScalingAssumptions a = new ScalingAssumptions(32 / 0.180, 32, 1.0, 0, SyncBnScaling.LOG, 8, 400, 0,
            2.0 / 3.0); // 180 ms compute of which 120 ms backward
        final Projection p = ScalingModel.project(100_000_000L, 0, 256, 50, a);
        assertEquals(12.8, p.linkToHideGbps(), 12.8 * 0.10);
    }

    /**
     * Goyal et al. 2017: ~90 % scaling efficiency from 8 to 256 P100s (Big Basin, 8 per server, NVLink inside,
     * 50 Gbit Ethernet between), ResNet-50, 32 images per GPU, no SyncBN, all-reduce overlapped with backprop. One
     * GPU: 120 ms backprop (paper) -> ~180 ms per step -> 178 img/s. Tolerance: with Baton's ring efficiency the
     * published 90 % must lie between the model without overlap (Baton's default) and with full overlap (what Caffe2
     * did), each within 0.02, and the no-overlap projection within 0.10 of it.
     */
    @Test
    void landsNearGoyalAnchorFrom8To256Gpus()
    {
        final ModelFacts facts = ModelFacts.of(ModelOptions.builder("resnet50").build(), 32);
        final ScalingAssumptions a = ScalingAssumptions.baton(32 / 0.180, 32).withSyncBn(0, SyncBnScaling.LOG)
            .withNodes(8, 400);
        final double none = relative(facts, a, 8, 256, 50);
        final double full = relative(facts, a.withOverlap(1), 8, 256, 50);
        assertBracketed(none, full, 0.10);
    }

    /**
     * Sergeev and Del Balso 2018 (Horovod): ~90 % scaling efficiency for ResNet-101 on 512 Pascal GPUs, 4 per server,
     * 25 Gbit/s RoCE, relative to one GPU; tensor fusion overlaps the all-reduce with backprop. Per-GPU throughput
     * is not stated in the paper: assumed 130 img/s at batch 64 (tf_cnn_benchmarks-class P100 figure for
     * ResNet-101). Tolerance: published value between the no-overlap and full-overlap projections (± 0.02), and the
     * no-overlap projection within 0.15 of it.
     */
    @Test
    void landsNearHorovodAnchorOn512Gpus()
    {
        final ModelFacts facts = ModelFacts.of(ModelOptions.builder("resnet101").build(), 64);
        final ScalingAssumptions a = ScalingAssumptions.baton(130, 64).withSyncBn(0, SyncBnScaling.LOG)
            .withNodes(4, 400);
        final double none = ScalingModel.project(facts.gradientBytes(), 0, 512, 25, a).efficiency();
        final double full = ScalingModel.project(facts.gradientBytes(), 0, 512, 25, a.withOverlap(1)).efficiency();
        assertBracketed(none, full, 0.15);
    }

    @Test
    void rangesAreDoublingPowersOfTwoOrLists()
    {
        assertEquals(List.of(8, 16, 32, 64, 128, 256, 512), ReplicaRange.parseInts("--replicas", "8..512"));
        assertEquals(List.of(25.0, 50.0, 100.0, 200.0, 400.0), ReplicaRange.parse("--link-gbps", "25..400", false));
        assertEquals(List.of(8, 100), ReplicaRange.parseInts("--replicas", "8,100"));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ReplicaRange.parseInts("--replicas", "6..512"));
        assertTrue(ex.getMessage().contains("powers of two"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReplicaRange.parseInts("--replicas", "0"));
        assertThrows(IllegalArgumentException.class, () -> ReplicaRange.parse("--link-gbps", "400..25", false));
    }

    @Test
    void invalidAssumptionsNameTheValue()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ScalingAssumptions.baton(100, 32).withRingEfficiency(1.5));
        assertTrue(ex.getMessage().contains("1.5"), ex.getMessage());
    }

    private static double relative(
        final ModelFacts facts, final ScalingAssumptions a, final int from, final int to, final double gbps)
    {
        return ScalingModel.relativeEfficiency(ScalingModel.project(facts.gradientBytes(), 0, from, gbps, a),
            ScalingModel.project(facts.gradientBytes(), 0, to, gbps, a));
    }

    private static void assertBracketed(final double noOverlap, final double fullOverlap, final double tolerance)
    {
        final String values = "no overlap " + noOverlap + ", full overlap " + fullOverlap;
        assertTrue(noOverlap - 0.02 <= PUBLISHED_EFFICIENCY && PUBLISHED_EFFICIENCY <= fullOverlap + 0.02, values);
        assertEquals(PUBLISHED_EFFICIENCY, noOverlap, tolerance, values);
    }
}
