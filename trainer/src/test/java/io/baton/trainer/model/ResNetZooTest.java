package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResNetZooTest
{
    /**
     * A trivial SyncBatchNorm stand-in: the factory hook must be able to put it everywhere.
     */
    public static final class MarkedBatchNorm extends BatchNormalization
    {
    }

    private static ModelOptions options(final String arch)
    {
        return ModelOptions.builder(arch).build();
    }

    private static long bnChannelsCifar(final int depth)
    {
        final int n = (depth - 2) / 6;
        return 16 + 2L * n * (16 + 32 + 64);
    }

    @Test
    void shouldMatchTorchvisionParameterCountsForImageNetResNetsWithoutAllocating()
    {
        final String[] names = {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"};
        final long[] torchvision = {11_689_512L, 21_797_672L, 25_557_032L, 44_549_160L, 60_192_808L};
        // BN channels: resnet18 4,800; resnet34 8,512; resnet50 26,560; resnet101 52,672; resnet152 75,712.
        final long[] dl4j = {11_699_112L, 21_814_696L, 25_610_152L, 44_654_504L, 60_344_232L};
        for (int i = 0; i < names.length; i++)
        {
            final ModelSummary summary = ModelSummary.of(options(names[i]), 1);
            assertEquals(torchvision[i], summary.torchvisionParams(), names[i]);
            assertEquals(dl4j[i], summary.dl4jParams(), names[i]);
        }
    }

    @Test
    void shouldMatchTorchvisionParameterCountsForWideResNetBottlenecks()
    {
        assertEquals(68_883_240L, ModelSummary.of(options("wide_resnet50_2"), 1).torchvisionParams());
        assertEquals(126_886_696L, ModelSummary.of(options("wide_resnet101_2"), 1).torchvisionParams());
    }

    @Test
    void shouldAllocateExactlyTheSummarisedParameterCountForResNet152()
    {
        final ModelOptions options = ModelOptions.builder("resnet152").input(32, 32, 3).build();
        final ComputationGraph graph = ResNetZoo.graph(options);
        assertEquals(60_344_232L, graph.numParams());
        assertEquals(ModelSummary.of(options, 1).dl4jParams(), graph.numParams());
    }

    @Test
    void shouldMatchPaperParameterCountsForCifarResNetsAndPlainNets()
    {
        // 10 classes, option A (parameter-free shortcuts): ResNet-20 269,722 (0.27M in He et al. 2015, Table 6).
        final int[] depths = {20, 32, 44, 56, 110};
        final long[] expected = {269_722L, 464_154L, 658_586L, 853_018L, 1_727_962L};
        for (int i = 0; i < depths.length; i++)
        {
            for (final String family : new String[]{"resnet", "plain"})
            {
                final ModelSummary summary = ModelSummary.of(options(family + depths[i]), 1);
                assertEquals(expected[i], summary.torchvisionParams(), family + depths[i]);
                assertEquals(expected[i] + 2 * bnChannelsCifar(depths[i]), summary.dl4jParams(), family + depths[i]);
            }
        }
    }

    @Test
    void shouldCountWideResNet28x10ParametersAndGraphParametersAlike()
    {
        // stem 432 + stage1 1,640,672 + stage2 6,968,000 + stage3 27,862,400 + final BN 1,280 + fc 6,410:
        // the 36,479,194 that PyTorch WRN-28-10 implementations print for CIFAR-10 (36.5M in the WRN paper).
        assertEquals(36_479_194L, ModelSummary.of(options("wrn28-10"), 1).torchvisionParams());
        final ModelOptions small = ModelOptions.builder("wrn-16-2").input(28, 28, 1).build();
        assertEquals(ModelSummary.of(small, 1).dl4jParams(), ResNetZoo.graph(small).numParams());
    }

    @Test
    void shouldReproduceTorchvisionOutputSizesAt224()
    {
        final ModelOptions options = options("resnet50");
        final Map<String, InputType> types = ResidualBlocks.activationTypes(
            ResNetZoo.configuration(options), ResNetZoo.inputType(options));
        assertEquals("64x112x112", shape(types.get("stem_conv")));
        final List<String> shapes = ModelSummary.of(options, 1).stages().stream()
            .map(StageSummary::outputShape).collect(Collectors.toList());
        assertEquals(List.of("64x56x56", "256x56x56", "512x28x28", "1024x14x14", "2048x7x7", "1000"), shapes);
        final List<String> basic = ModelSummary.of(options("resnet18"), 1).stages().stream()
            .map(StageSummary::outputShape).collect(Collectors.toList());
        assertEquals(List.of("64x56x56", "64x56x56", "128x28x28", "256x14x14", "512x7x7", "1000"), basic);
    }

    @Test
    void shouldHandleGreyscaleAndOddSizedInputs()
    {
        final ModelOptions cifar = ModelOptions.builder("resnet20").input(28, 28, 1).numClasses(7).build();
        assertEquals(List.of("16x28x28", "16x28x28", "32x14x14", "64x7x7", "7"), ModelSummary.of(cifar, 2).stages()
            .stream().map(StageSummary::outputShape).collect(Collectors.toList()));
        final ModelOptions imageNet = ModelOptions.builder("resnet18").input(28, 28, 1).numClasses(10).build();
        assertEquals(List.of("64x7x7", "64x7x7", "128x4x4", "256x2x2", "512x1x1", "10"),
            ModelSummary.of(imageNet, 2).stages().stream().map(StageSummary::outputShape)
                .collect(Collectors.toList()));
    }

    @Test
    void shouldReportForwardMacsLikeTorchvisionTable()
    {
        assertEquals(1.81e9, ModelSummary.of(options("resnet18"), 1).forwardMacs(), 0.01 * 1.81e9);
        assertEquals(3.66e9, ModelSummary.of(options("resnet34"), 1).forwardMacs(), 0.01 * 3.66e9);
        final ModelSummary resnet50 = ModelSummary.of(options("resnet50"), 1);
        assertEquals(4.09e9, resnet50.forwardMacs(), 0.01 * 4.09e9);
        assertEquals(2 * resnet50.forwardMacs(), resnet50.forwardFlops());
        assertEquals(11.51e9, ModelSummary.of(options("resnet152"), 1).forwardMacs(), 0.01 * 11.51e9);
    }

    @Test
    void shouldEstimateTrainingMemoryGrowingWithBatchAndFormatATable()
    {
        final ModelSummary one = ModelSummary.of(options("resnet50"), 1);
        final ModelSummary many = ModelSummary.of(options("resnet50"), 32);
        assertTrue(one.trainingMemoryBytes() > 4 * one.dl4jParams(), "at least the float parameters");
        assertTrue(many.trainingMemoryBytes() > one.trainingMemoryBytes());
        final String text = many.format();
        assertTrue(text.contains("stage4"), text);
        assertTrue(text.contains("2048x7x7"), text);
        assertTrue(text.contains("25,557,032"), text);
        assertTrue(text.contains("25,610,152"), text);
        assertTrue(text.contains("GMACs"), text);
        assertTrue(text.contains("MiB"), text);
    }

    @Test
    void shouldRunForwardAndBackwardForEveryFamily()
    {
        final ModelOptions[] families = {
            ModelOptions.builder("resnet18").input(32, 32, 3).numClasses(10).build(),
            ModelOptions.builder("resnet50").input(32, 32, 3).numClasses(10).build(),
            ModelOptions.builder("resnet20").input(28, 28, 1).numClasses(10).build(),
            ModelOptions.builder("plain20").input(28, 28, 1).numClasses(10).build(),
            ModelOptions.builder("resnet20").preActivation(true).input(32, 32, 3).numClasses(10).build(),
            ModelOptions.builder("resnet18").preActivation(true).input(32, 32, 3).numClasses(10).build(),
            ModelOptions.builder("wrn-16-2").input(32, 32, 3).numClasses(10).build()};
        for (final ModelOptions options : families)
        {
            final ComputationGraph graph = ResNetZoo.graph(options);
            final INDArray x = Nd4j.rand(DataType.FLOAT, 2, options.inputChannels(), options.inputHeight(),
                options.inputWidth());
            final INDArray y = Nd4j.zeros(DataType.FLOAT, 2, options.numClasses());
            y.putScalar(0, 1, 1.0);
            y.putScalar(1, 3, 1.0);
            final INDArray out = graph.output(x)[0];
            assertArrayEquals(new long[]{2, options.numClasses()}, out.shape(), options.toString());
            assertEquals(2.0, out.sumNumber().doubleValue(), 1e-4, "softmax rows");
            graph.setInputs(x);
            graph.setLabels(y);
            graph.computeGradientAndScore();
            assertTrue(Double.isFinite(graph.score()) && graph.score() > 0, options.toString());
            final INDArray stemGrad = graph.gradient().getGradientFor("stem_conv_W");
            assertTrue(stemGrad.amaxNumber().doubleValue() > 0, "gradient reaches the stem: " + options);
            assertFalse(stemGrad.isNaN().any() || graph.getFlattenedGradients().isInfinite().any(), options.toString());
        }
    }

    @Test
    void shouldBuildShortcutsForOptionsABAndC()
    {
        final Map<ShortcutType, Long> paramsByType = new java.util.EnumMap<>(ShortcutType.class);
        for (final ShortcutType type : ShortcutType.values())
        {
            final ModelOptions options = ModelOptions.builder("resnet20").shortcut(type).build();
            final List<ResidualBlock> blocks = ResidualBlocks.describe(
                ResNetZoo.configuration(options), ResNetZoo.inputType(options));
            assertEquals(9, blocks.size());
            final ResidualBlock down = blocks.get(3);
            assertEquals("stage2_block1", down.name());
            assertEquals(16, down.inChannels());
            assertEquals(32, down.outChannels());
            assertEquals(2, down.stride());
            assertEquals("stage2_block1_out", down.outputVertex());
            assertEquals("stage1_block3_out", down.inputVertex());
            final ResidualBlock same = blocks.get(4);
            assertFalse(same.changesShape());
            switch (type)
            {
                case A ->
                {
                    assertEquals(ShortcutKind.ZERO_PAD, down.shortcut());
                    assertEquals(ShortcutKind.IDENTITY, same.shortcut());
                }
                case B ->
                {
                    assertEquals(ShortcutKind.PROJECTION, down.shortcut());
                    assertEquals(ShortcutKind.IDENTITY, same.shortcut());
                }
                case C ->
                {
                    assertEquals(ShortcutKind.PROJECTION, down.shortcut());
                    assertEquals(ShortcutKind.PROJECTION, same.shortcut());
                }
                default -> throw new AssertionError(type);
            }
            assertTrue(blocks.stream().noneMatch(ResidualBlock::lacksProjection));
            paramsByType.put(type, ModelSummary.of(options, 1).torchvisionParams());
            final ComputationGraph graph = ResNetZoo.graph(options.toBuilder().input(16, 16, 3).build());
            assertArrayEquals(new long[]{2, 10}, graph.output(Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16))[0].shape());
        }
        assertEquals(269_722L, paramsByType.get(ShortcutType.A));
        // B adds 1x1 conv + BN at the two downsampling blocks: (16*32 + 64) + (32*64 + 128).
        assertEquals(269_722L + 576 + 2_176, paramsByType.get(ShortcutType.B));
        assertTrue(paramsByType.get(ShortcutType.C) > paramsByType.get(ShortcutType.B));
    }

    @Test
    void shouldDescribePlainNetworkBlocksAsHavingNoShortcut()
    {
        final ModelOptions options = options("plain20");
        final List<ResidualBlock> blocks = ResidualBlocks.describe(
            ResNetZoo.configuration(options), ResNetZoo.inputType(options));
        assertEquals(9, blocks.size());
        assertTrue(blocks.stream().allMatch(b -> b.shortcut() == ShortcutKind.NONE));
        assertTrue(ResNetZoo.configuration(options).getVertices().keySet().stream().noneMatch(n -> n.endsWith("_add")));
    }

    @Test
    void shouldFlagABlockThatChangesShapeWithIdentityShortcut()
    {
        final ResidualBlock broken = new ResidualBlock("stage2_block1", 2, 1, "a", "b", 16, 32, 2,
            ShortcutKind.IDENTITY);
        assertTrue(broken.lacksProjection());
        final ResidualBlock fine = new ResidualBlock("stage2_block1", 2, 1, "a", "b", 16, 32, 2,
            ShortcutKind.PROJECTION);
        assertFalse(fine.lacksProjection());
    }

    @Test
    void shouldSubsampleAndZeroPadInOptionAVertexForwardAndBackward()
    {
        final ZeroPadShortcutGraphVertex vertex = new ZeroPadShortcutGraphVertex(null, "pad", 0, 2, 5, DataType.FLOAT);
        final INDArray in = Nd4j.rand(DataType.FLOAT, 2, 3, 5, 4);
        vertex.setInputs(new INDArray[]{in});
        final INDArray out = vertex.doForward(true, LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(new long[]{2, 5, 3, 2}, out.shape());
        assertEquals(in.getDouble(1, 2, 4, 2), out.getDouble(1, 2, 2, 1), 0.0);
        assertEquals(in.getDouble(0, 0, 2, 0), out.getDouble(0, 0, 1, 0), 0.0);
        assertEquals(0.0, out.get(NDArrayIndex.all(), NDArrayIndex.interval(3, 5)).amaxNumber().doubleValue(), 0.0);

        final INDArray eps = Nd4j.rand(DataType.FLOAT, 2, 5, 3, 2);
        vertex.setEpsilon(eps);
        final INDArray epsIn = vertex.doBackward(false, LayerWorkspaceMgr.noWorkspaces()).getSecond()[0];
        assertArrayEquals(in.shape(), epsIn.shape());
        assertEquals(eps.getDouble(1, 2, 2, 1), epsIn.getDouble(1, 2, 4, 2), 0.0);
        assertEquals(0.0, epsIn.getDouble(1, 2, 3, 2), 0.0);
        assertEquals(eps.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 3)).sumNumber().doubleValue(),
            epsIn.sumNumber().doubleValue(), 1e-4);
    }

    @Test
    void shouldRoundTripOptionAGraphThroughJson()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options);
        final String json = conf.toJson();
        assertTrue(json.contains("ZeroPadShortcutVertex"), "option-A vertex in the JSON");
        final ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertEquals(ResidualBlocks.describe(conf, ResNetZoo.inputType(options)),
            ResidualBlocks.describe(back, ResNetZoo.inputType(options)));

        final ComputationGraph original = ResNetZoo.graph(options);
        final ComputationGraph restored = new ComputationGraph(back);
        restored.init(original.params().dup(), false);
        final INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16);
        assertEquals(original.output(x)[0], restored.output(x)[0]);
    }

    @Test
    void shouldZeroInitTheLastBnGammaOfEveryResidualBranchOnly()
    {
        for (final String arch : new String[]{"resnet20", "resnet50"})
        {
            final ModelOptions options = ModelOptions.builder(arch).zeroInitLastBnGamma(true).input(32, 32, 3)
                .numClasses(10).build();
            final String last = arch.equals("resnet50") ? "_bn3" : "_bn2";
            final ComputationGraph graph = ResNetZoo.graph(options);
            int zeroed = 0;
            for (final Map.Entry<String, INDArray> e : graph.paramTable().entrySet())
            {
                if (!e.getKey().endsWith("_gamma"))
                {
                    continue;
                }
                final String layer = e.getKey().substring(0, e.getKey().length() - "_gamma".length());
                final double expected = layer.endsWith(last) ? 0.0 : 1.0;
                assertEquals(expected, e.getValue().minNumber().doubleValue(), 0.0, e.getKey());
                assertEquals(expected, e.getValue().maxNumber().doubleValue(), 0.0, e.getKey());
                zeroed += layer.endsWith(last) ? 1 : 0;
            }
            assertEquals(ResidualBlocks.describe(graph.getConfiguration(), ResNetZoo.inputType(options)).size(),
                zeroed);
        }
        assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.builder("plain20").zeroInitLastBnGamma(true).build());
    }

    @Test
    void shouldCreateEveryBatchNormThroughTheFactoryHook()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").zeroInitLastBnGamma(true).input(16, 16, 3)
            .build();
        final List<String> seen = new java.util.ArrayList<>();
        final NormLayerFactory marked = spec ->
        {
            seen.add(spec.name());
            assertEquals(1e-5, spec.eps(), 0.0);
            assertEquals(0.9, spec.decay(), 0.0);
            return spec.applyTo(new MarkedBatchNorm());
        };
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options, marked,
            new org.nd4j.linalg.learning.config.Sgd(0.1));
        final List<Layer> norms = conf.getVertices().values().stream()
            .filter(v -> v instanceof LayerVertex)
            .map(v -> ((LayerVertex)v).getLayerConf().getLayer())
            .filter(l -> l instanceof BatchNormalization)
            .collect(Collectors.toList());
        assertEquals(19, norms.size(), "stem + 2 per block");
        assertEquals(19, seen.size());
        assertTrue(norms.stream().allMatch(l -> l instanceof MarkedBatchNorm));

        final ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertTrue(back.getVertices().values().stream()
            .filter(v -> v instanceof LayerVertex)
            .map(v -> ((LayerVertex)v).getLayerConf().getLayer())
            .filter(l -> l instanceof BatchNormalization)
            .allMatch(l -> l instanceof MarkedBatchNorm), "subclass survives JSON");

        final ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        assertEquals(0.0, graph.getParam("stage1_block1_bn2_gamma").amaxNumber().doubleValue(), 0.0);
        assertEquals(1.0, graph.getParam("stage1_block1_bn1_gamma").minNumber().doubleValue(), 0.0);
        assertArrayEquals(new long[]{2, 10}, graph.output(Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16))[0].shape());
    }

    @Test
    void shouldUseBiasFreeKaimingFanOutConvolutions()
    {
        final ModelOptions options = ModelOptions.builder("resnet18").input(32, 32, 3).numClasses(10).build();
        final ComputationGraph graph = ResNetZoo.graph(options);
        for (final Map.Entry<String, GraphVertex> e : graph.getConfiguration().getVertices().entrySet())
        {
            if (e.getValue() instanceof LayerVertex &&
                ((LayerVertex)e.getValue()).getLayerConf().getLayer() instanceof ConvolutionLayer)
            {
                final ConvolutionLayer conv = (ConvolutionLayer)((LayerVertex)e.getValue()).getLayerConf().getLayer();
                assertFalse(conv.hasBias(), e.getKey());
            }
        }
        final INDArray w = graph.getParam("stage4_block1_conv2_W");
        final double expectedStd = Math.sqrt(2.0 / (3 * 3 * 512));
        final double std = w.stdNumber().doubleValue();
        assertEquals(expectedStd, std, 0.05 * expectedStd);
        assertNotEquals(0.0, graph.getParam("fc_W").amaxNumber().doubleValue());
        assertTrue(graph.paramTable().containsKey("fc_b"));
    }

    @Test
    void shouldWidenCifarStagesWithTheWidthMultiplier()
    {
        final ModelOptions wide = ModelOptions.builder("wrn28-10").build();
        assertTrue(wide.preActivation());
        assertEquals(10.0, wide.widthMultiplier(), 0.0);
        final List<String> shapes = ModelSummary.of(wide, 1).stages().stream().map(StageSummary::outputShape)
            .collect(Collectors.toList());
        assertEquals(List.of("16x32x32", "160x32x32", "320x16x16", "640x8x8", "10"), shapes);
        final ModelOptions doubled = ModelOptions.builder("resnet20").widthMultiplier(2).build();
        assertEquals("128x8x8", ModelSummary.of(doubled, 1).stages().get(3).outputShape());
    }

    @Test
    void shouldBuildPreActivationBlocksEndingInTheAdditionWithAFinalNormalisation()
    {
        final ModelOptions options = ModelOptions.builder("resnet18").preActivation(true).input(32, 32, 3).build();
        final ComputationGraphConfiguration conf = ResNetZoo.configuration(options);
        final List<ResidualBlock> blocks = ResidualBlocks.describe(conf, ResNetZoo.inputType(options));
        assertEquals(8, blocks.size());
        assertTrue(blocks.stream().allMatch(b -> b.outputVertex().endsWith("_add")), blocks.toString());
        final ResidualBlock down = blocks.get(2);
        assertEquals("stage2_block1", down.name());
        assertEquals(ShortcutKind.PROJECTION, down.shortcut());
        assertEquals(List.of("stage2_block1_relu1"), conf.getVertexInputs().get("stage2_block1_shortcut_conv"),
            "projection takes the pre-activated input");
        assertEquals(List.of("stage2_block1_relu1"), conf.getVertexInputs().get("stage2_block1_conv1"));
        assertEquals(List.of("stage1_block2_add"), conf.getVertexInputs().get("stage2_block1_bn1"));
        assertEquals(List.of("final_relu"), conf.getVertexInputs().get("pool"));
        assertFalse(conf.getVertices().containsKey("stage2_block1_out"));
        assertFalse(conf.getVertices().containsKey("stage2_block1_shortcut_bn"));
    }

    @Test
    void shouldRejectInvalidOptionsNamingTheValue()
    {
        final IllegalArgumentException classes = assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.builder("resnet18").numClasses(0).build());
        assertTrue(classes.getMessage().contains("classes=0"), classes.getMessage());
        final IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.builder("resnet18").input(0, 224, 3).build());
        assertTrue(input.getMessage().contains("0x224"), input.getMessage());
        final IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
            () -> ModelOptions.builder("resnet18").widthMultiplier(-1).build());
        assertTrue(width.getMessage().contains("widthMultiplier=-1"), width.getMessage());
        final ModelOptions options = ModelOptions.builder("resnet56").seed(7).build();
        assertEquals(options, options.toBuilder().build());
        assertEquals(ShortcutType.A, options.shortcut());
        assertEquals(ShortcutType.B, ModelOptions.builder("resnet50").build().shortcut());
    }

    @Test
    void shouldListKnownArchitecturesWhenTheNameIsUnknown()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Architecture.named("resnet51"));
        assertTrue(e.getMessage().contains("resnet51"), e.getMessage());
        for (final String name : new String[]{"resnet18", "resnet152", "resnet110", "plain56", "wrn28-10"})
        {
            assertTrue(e.getMessage().contains(name), e.getMessage());
            assertEquals(name, Architecture.named(name.toUpperCase()).name());
        }
        assertEquals("wrn40-2", Architecture.named("wrn-40-2").name());
        assertThrows(IllegalArgumentException.class, () -> Architecture.named("wrn-27-10"));
    }

    private static String shape(final InputType type)
    {
        final InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional)type;
        return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
    }
}
