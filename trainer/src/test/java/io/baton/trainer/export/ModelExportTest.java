package io.baton.trainer.export;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ShortcutKind;
import io.baton.trainer.model.ShortcutType;
import io.baton.trainer.syncbn.SyncBatchNorm;
import io.baton.trainer.syncbn.SyncBatchNormSwap;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Export to inference form and verification of exported models, clean and tampered. */
class ModelExportTest
{
    private static final InputType.InputTypeConvolutional INPUT =
        (InputType.InputTypeConvolutional)InputType.convolutional(16, 16, 3);
    private static final double BN_MEAN_LIMIT = 1000;

    @TempDir
    Path dir;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static ComputationGraph trainingGraph()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4)
            .shortcut(ShortcutType.B).seed(5).build();
        final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()), new NoOp());
        // Non-default running statistics, so a wrong BN conversion would show in the output.
        for (final Layer layer : graph.getLayers())
        {
            if (layer.paramTable().containsKey("mean"))
            {
                layer.getParam("mean").assign(0.05);
            }
        }
        return graph;
    }

    private static ModelVerifier.Result verify(final Path zip)
    {
        return ModelVerifier.verify(zip, Double.NaN, Double.NaN, BN_MEAN_LIMIT);
    }

    @Test
    void shouldExportInferenceFormThatVerifies() throws IOException
    {
        final ComputationGraph training = trainingGraph();
        final Path zip = dir.resolve("model.zip");
        final VerificationSample sample = ModelExporter.export(training, INPUT, zip, 7, BN_MEAN_LIMIT);

        final ModelVerifier.Result result = verify(zip);
        assertTrue(result.passed(), "clean export must verify: " + result.problems());
        assertEquals(9, result.blocksChecked(), "resnet20 has 9 blocks");
        assertEquals(21, result.bnLayersChecked(), "resnet20-B: 1 stem + 9x2 block + 2 projection BN layers");
        assertTrue(result.maxAbsDifference() <= ModelExporter.DEFAULT_ABS_TOLERANCE);
        final ComputationGraph loaded = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        assertEquals(0, SyncBatchNormSwap.countSyncBatchNorm(loaded.getConfiguration()),
            "inference form has no SyncBatchNorm");
        assertEquals(training.numParams(), loaded.numParams());
        assertEquals(2, sample.inputShape()[0]);
        assertEquals(sample.output().length, 2 * 4);
        assertTrue(sample.blocks().stream().anyMatch(b -> b.name().equals("stage2_block1") && b.changesShape()));
    }

    @Test
    void shouldExportAShortcutAModelWithLabelSmoothingThatVerifiesWithItsZeroPadBlocks() throws IOException
    {
        final ComputationGraph training = InferenceFormTest.smoothedShortcutA(false);
        final Path zip = dir.resolve("model.zip");
        final VerificationSample sample = ModelExporter.export(training, INPUT, zip, 7, BN_MEAN_LIMIT);

        final ModelVerifier.Result result = verify(zip);
        assertTrue(result.passed(), "shortcut-A export must verify: " + result.problems());
        assertEquals(9, result.blocksChecked());
        assertEquals(List.of("stage2_block1", "stage3_block1"), sample.blocks().stream()
            .filter(b -> b.shortcut() == ShortcutKind.ZERO_PAD).map(ResidualBlock::name).toList());
        final ComputationGraph loaded = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        assertEquals(sample.params(), loaded.numParams(), "the sidecar counts the exported graph's parameters");
        assertFalse(loaded.getConfiguration().toJson().contains("io.baton"));
    }

    @Test
    void shouldNameTheOutputMismatchOfChangedWeights() throws IOException
    {
        final Path zip = dir.resolve("model.zip");
        ModelExporter.export(trainingGraph(), INPUT, zip, 7, BN_MEAN_LIMIT);
        final ComputationGraph tampered = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        tampered.getLayer("fc").getParam("W").muli(1.5);
        final Path bad = rewrite(zip, tampered, dir.resolve("tampered.zip"));

        final ModelVerifier.Result result = verify(bad);
        assertFalse(result.passed());
        assertTrue(result.problems().stream().anyMatch(p -> p.startsWith("output differs from the training graph's")
            && p.contains("beyond tolerance") && p.contains("expected")), result.problems().toString());
    }

    @Test
    void shouldNameTheBlockWhoseProjectionShortcutWasRemoved() throws IOException
    {
        final Path zip = dir.resolve("model.zip");
        ModelExporter.export(trainingGraph(), INPUT, zip, 7, BN_MEAN_LIMIT);
        final ComputationGraph exported = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        final ComputationGraphConfiguration conf =
            ComputationGraphConfiguration.fromJson(exported.getConfiguration().toJson());
        final String block = "stage2_block1";
        final String blockInput = conf.getVertexInputs().get(block + "_conv1").get(0);
        conf.getVertices().remove(block + "_shortcut_conv");
        conf.getVertices().remove(block + "_shortcut_bn");
        conf.getVertexInputs().remove(block + "_shortcut_conv");
        conf.getVertexInputs().remove(block + "_shortcut_bn");
        final List<String> addInputs = new ArrayList<>(conf.getVertexInputs().get(block + "_add"));
        addInputs.replaceAll(in -> in.equals(block + "_shortcut_bn") ? blockInput : in);
        conf.getVertexInputs().put(block + "_add", addInputs);
        conf.setTopologicalOrder(null);
        conf.setTopologicalOrderStr(null);
        final ComputationGraph broken = new ComputationGraph(conf);
        broken.init();
        for (final Layer layer : broken.getLayers())
        {
            final String name = layer.conf().getLayer().getLayerName();
            layer.setParams(exported.getLayer(name).params());
        }
        final Path bad = rewrite(zip, broken, dir.resolve("no-shortcut.zip"));

        final ModelVerifier.Result result = verify(bad);
        assertFalse(result.passed());
        assertTrue(result.problems().stream().anyMatch(p -> p.startsWith("block stage2_block1 changes shape")
            && p.contains("projection shortcut is missing")), result.problems().toString());
    }

    @Test
    void shouldReportBrokenBatchNormStatisticsAndRefuseToExportThem() throws IOException
    {
        final Path zip = dir.resolve("model.zip");
        ModelExporter.export(trainingGraph(), INPUT, zip, 7, BN_MEAN_LIMIT);
        final ComputationGraph tampered = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        final Layer bn = tampered.getLayer("stage1_block2_bn1");
        bn.getParam("mean").putScalar(3, Double.NaN);
        final Path bad = rewrite(zip, tampered, dir.resolve("nan-bn.zip"));

        final ModelVerifier.Result result = verify(bad);
        assertTrue(result.problems().stream().anyMatch(p -> p.equals(
            "BN layer stage1_block2_bn1 channel 3 of 16: running mean is NaN")), result.problems().toString());
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> ModelExporter.export(tampered, INPUT, dir.resolve("again.zip"), 7, BN_MEAN_LIMIT));
        assertTrue(refused.getMessage().contains("stage1_block2_bn1"), refused.getMessage());
    }

    @Test
    void shouldFailOnAModelWithoutSidecar() throws IOException
    {
        final Path plain = dir.resolve("plain.zip");
        ModelSerializer.writeModel(trainingGraph(), plain.toFile(), false);
        final ModelVerifier.Result result = verify(plain);
        assertFalse(result.passed());
        assertTrue(result.problems().get(0).contains("baton/verify.json"), result.problems().toString());
    }

    /** Writes {@code graph} with the sidecar of {@code original}: a model changed after export. */
    private static Path rewrite(final Path original, final ComputationGraph graph, final Path target)
        throws IOException
    {
        final Path model = Files.createTempFile(target.getParent(), "model", ".zip");
        ModelSerializer.writeModel(graph, model.toFile(), false);
        try (ZipFile modelZip = new ZipFile(model.toFile());
             ZipFile originalZip = new ZipFile(original.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(target)))
        {
            final Enumeration<? extends ZipEntry> entries = modelZip.entries();
            while (entries.hasMoreElements())
            {
                copy(modelZip, entries.nextElement(), out);
            }
            copy(originalZip, originalZip.getEntry(VerificationSample.ENTRY), out);
        }
        return target;
    }

    private static void copy(final ZipFile zip, final ZipEntry entry, final ZipOutputStream out) throws IOException
    {
        out.putNextEntry(new ZipEntry(entry.getName()));
        try (InputStream in = zip.getInputStream(entry))
        {
            in.transferTo(out);
        }
        out.closeEntry();
    }
}
