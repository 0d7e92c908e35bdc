package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.demo.DemoImages;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.recipe.TrainingRecipe;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prepared data keeps its identity through the tools. A model keeps the class names of its training data, and
 * evaluate, retrain and export use them: data whose class i is not the model's class i is refused instead of being
 * scored against the wrong outputs. A run records its data's identity, and resuming it on other data is refused.
 */
@Tag("slow")
class PreparedDataIdentityTest
{
    private static final List<String> MODEL_CLASSES = List.of("n00000000", "n00000001", "n00000002");
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "train.replicas=1", "train.global-batch=8", "optim.base-batch=8", "data.loader-threads=1",
        "retrain.epochs=1");

    @TempDir
    static Path dir;
    private static Path model;
    private static Path sameClasses;
    private static Path otherClasses;
    /** A run trained on {@link #sameClasses}. */
    private static Path trained;

    @BeforeAll
    static void prepareDataAndModel() throws Exception
    {
        NativeRuntime.configure();
        final Path same = dir.resolve("same");
        DemoImages.write(same, 3, 3, 8, 4, 16);
        // The same images with class n00000000 renamed n00000009: the folders now sort into other labels.
        final Path other = dir.resolve("other");
        DemoImages.write(other, 3, 3, 8, 4, 16);
        for (final String split : List.of("train", "val"))
        {
            Files.move(other.resolve(split).resolve("n00000000"), other.resolve(split).resolve("n00000009"));
        }
        sameClasses = prepare(same);
        otherClasses = prepare(other);

        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null, SETTINGS);
        model = dir.resolve("model.zip");
        try (OutputStream out = Files.newOutputStream(model))
        {
            ModelClasses.writeModel(TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 3), false,
                MODEL_CLASSES, out);
        }
        trained = dir.resolve("run");
        final StringWriter text = new StringWriter();
        assertEquals(0, run(text, "train", "--data", sameClasses.toString(), "--run-dir", trained.toString(), "--set",
            "train.epochs=1", "--set", "optim.schedule=constant", "--set", "optim.decay-epochs=[]", "--set",
            "checkpoint.every=2", "--set", "cluster.master=\"local[1]\""), text.toString());
    }

    private static Path prepare(final Path tree)
    {
        final Path out = dir.resolve(tree.getFileName() + "-prepared");
        final StringWriter text = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"prepare", tree.toString(), out.toString()},
            new PrintWriter(text, true), new PrintWriter(text, true)), text.toString());
        return out;
    }

    private static int run(final StringWriter err, final String... args)
    {
        final String[] all = Stream.concat(Stream.of(args),
            SETTINGS.stream().flatMap(s -> Stream.of("--set", s))).toArray(String[]::new);
        return BatonCli.run(all, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    }

    @Test
    void evaluateRefusesDataWhoseClassesAreNotTheModelsAndAcceptsItsOwn()
    {
        final StringWriter err = new StringWriter();
        assertEquals(2, run(err, "evaluate", "--model", model.toString(), "--data", otherClasses.toString()),
            err.toString());
        assertTrue(err.toString().contains("has class 0 = n00000001 where the model has n00000000"), err.toString());

        final StringWriter ok = new StringWriter();
        assertEquals(0, run(ok, "evaluate", "--model", model.toString(), "--data", sameClasses.toString()),
            ok.toString());
    }

    @Test
    void retrainRefusesDataWithOtherClassesBeforeItWritesACandidate() throws IOException
    {
        final Path models = dir.resolve("models");
        final StringWriter err = new StringWriter();
        assertEquals(2, run(err, "retrain", "--from", model.toString(), "--data", otherClasses.toString(),
            "--models-dir", models.toString()), err.toString());
        assertTrue(err.toString().contains("has class 0 = n00000001 where the model has n00000000"), err.toString());
        assertFalse(Files.exists(models.resolve("candidates")) && Files.list(models.resolve("candidates"))
            .findAny().isPresent(), "no candidate written");
    }

    @Test
    void resumingARunOnDataPreparedWithOtherClassesIsRefusedNamingTheData()
    {
        final StringWriter err = new StringWriter();
        assertEquals(2, run(err, "train", "--data", otherClasses.toString(), "--run-dir", trained.toString(), "--set",
            "train.epochs=1", "--set", "optim.schedule=constant", "--set", "optim.decay-epochs=[]", "--set",
            "checkpoint.every=2", "--set", "cluster.master=\"local[1]\""), err.toString());
        assertTrue(err.toString().contains("refusing to resume") && err.toString().contains(
            "data.identity: 3 classes, train 24 + val 12 samples, sha256 "), err.toString());
    }

    @Test
    void evaluatingACheckpointOnDataWithOtherClassesIsRefusedByTheClassesOfItsRunsData() throws IOException
    {
        final Path checkpoint;
        try (Stream<Path> checkpoints = Files.list(trained.resolve("checkpoints")))
        {
            checkpoint = checkpoints.filter(p -> p.getFileName().toString().startsWith("ckpt-")).sorted()
                .reduce((a, b) -> b).orElseThrow();
        }
        final StringWriter err = new StringWriter();
        assertEquals(2, run(err, "evaluate", "--model", checkpoint.toString(), "--data", otherClasses.toString()),
            err.toString());
        assertTrue(err.toString().contains("has class 0 = n00000001 where the model has n00000000"), err.toString());
        assertEquals(MODEL_CLASSES, ModelClasses.read(trained.resolve("model.zip")), "train kept the names");
    }

    @Test
    void exportKeepsTheClassNames()
    {
        final Path exported = dir.resolve("exported.zip");
        final StringWriter err = new StringWriter();
        assertEquals(0, run(err, "export", "--model", model.toString(), "--input", "16,16,3", "-o",
            exported.toString()), err.toString());
        assertEquals(MODEL_CLASSES, ModelClasses.read(exported));

        final StringWriter out = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"verify-model", exported.toString()}, new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true)));
        assertTrue(out.toString().contains("classes: 3 (output 0 = n00000000, output 2 = n00000002)"),
            out.toString());
    }
}
