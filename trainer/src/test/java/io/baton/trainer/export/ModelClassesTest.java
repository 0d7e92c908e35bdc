package io.baton.trainer.export;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.NoOp;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelClassesTest
{
    private static final List<String> CLASSES = List.of("n01440764", "n01443537", "n01484850");

    @TempDir
    Path dir;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static ComputationGraph graph()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(3).seed(4).build();
        return ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()), new NoOp());
    }

    @Test
    void shouldKeepTheClassNamesInsideAZipThatDl4jStillRestores() throws Exception
    {
        final ComputationGraph graph = graph();
        final Path zip = dir.resolve("model.zip");
        try (OutputStream out = Files.newOutputStream(zip))
        {
            ModelClasses.writeModel(graph, false, CLASSES, out);
        }
        assertEquals(CLASSES, ModelClasses.read(zip));
        final ComputationGraph restored = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        assertArrayEquals(graph.params().toFloatVector(), restored.params().toFloatVector());
    }

    @Test
    void shouldFindNoNamesInAPlainDl4jZipOrAModelTrainedOnGeneratedData() throws Exception
    {
        final Path plain = dir.resolve("plain.zip");
        ModelSerializer.writeModel(graph(), plain.toFile(), false);
        assertEquals(List.of(), ModelClasses.read(plain));
        final Path unnamed = dir.resolve("unnamed.zip");
        try (OutputStream out = Files.newOutputStream(unnamed))
        {
            ModelClasses.writeModel(graph(), false, List.of(), out);
        }
        assertEquals(List.of(), ModelClasses.read(unnamed));
    }

    @Test
    void shouldCarryTheNamesIntoAnExportedZip() throws Exception
    {
        final Path exported = dir.resolve("exported.zip");
        ModelExporter.export(graph(), (org.deeplearning4j.nn.conf.inputs.InputType.InputTypeConvolutional)
            org.deeplearning4j.nn.conf.inputs.InputType.convolutional(16, 16, 3), exported, 1, 100, CLASSES);
        assertEquals(CLASSES, ModelClasses.read(exported));
        assertTrue(ModelVerifier.verify(exported, Double.NaN, Double.NaN, 100).passed(),
            "the exported zip still verifies");
    }

    @Test
    void shouldRefuseDataWhoseLabelsWouldMeanOtherOutputs()
    {
        ModelClasses.requireMatch(CLASSES, CLASSES, "--data x", true);
        ModelClasses.requireMatch(CLASSES, CLASSES.subList(0, 2), "--data x", false);
        ModelClasses.requireMatch(List.of(), List.of("a"), "--data x", true);
        ModelClasses.requireMatch(CLASSES, List.of(), "--data x", true);

        final IllegalArgumentException renamed = assertThrows(IllegalArgumentException.class,
            () -> ModelClasses.requireMatch(CLASSES, List.of("n01440764", "n01443538", "n01484850"), "--data x",
                false));
        assertTrue(renamed.getMessage().startsWith("--data x has class 1 = n01443538 where the model has n01443537"),
            renamed.getMessage());
        final IllegalArgumentException more = assertThrows(IllegalArgumentException.class,
            () -> ModelClasses.requireMatch(CLASSES, List.of("n01440764", "n01443537", "n01484850", "n09999999"),
                "--data x", false));
        assertTrue(more.getMessage().contains("the model has no output for n09999999"), more.getMessage());
        final IllegalArgumentException fewer = assertThrows(IllegalArgumentException.class,
            () -> ModelClasses.requireMatch(CLASSES, CLASSES.subList(0, 2), "--data x", true));
        assertTrue(fewer.getMessage().contains("a retrain keeps the model's classes, and the data lacks n01484850"),
            fewer.getMessage());
    }
}
