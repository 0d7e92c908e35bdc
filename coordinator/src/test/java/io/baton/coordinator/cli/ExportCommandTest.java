package io.baton.coordinator.cli;

import io.baton.common.checkpoint.CheckpointMetadata;
import io.baton.common.checkpoint.CheckpointPart;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.RetentionPolicy;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.train.TrainCheckpoint;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.export.VerificationSample;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.run.ReplicaState;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code baton export} of a run directory's model and {@code baton verify-model} on clean and tampered zips. */
class ExportCommandTest
{
    @TempDir
    Path dir;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldExportARunAndVerifyItThenCatchChangedWeights() throws Exception
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null,
            List.of("model.arch=resnet20", "data.image-size=16", "model.shortcut=b", "run.dir=" + dir));
        final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 5);
        Files.writeString(dir.resolve("run.conf"), config.render());
        ModelSerializer.writeModel(graph, dir.resolve("model.zip").toFile(), false);

        final Path exported = dir.resolve("export/model.zip");
        final CliRun export = CliRun.of("export", "--model", dir.toString(), "--output", exported.toString());
        assertEquals(0, export.code(), export.err());
        assertTrue(export.out().contains("9 residual blocks, input [2, 3, 16, 16]"), export.out());

        final CliRun clean = CliRun.of("verify-model", exported.toString());
        assertEquals(0, clean.code(), clean.out() + clean.err());
        assertTrue(clean.out().startsWith("OK "), clean.out());

        final ComputationGraph tampered = ModelSerializer.restoreComputationGraph(exported.toFile(), false);
        tampered.getLayer("stage3_block3_conv2").getParam("W").muli(-1);
        final Path bad = dir.resolve("tampered.zip");
        final Path plain = dir.resolve("plain.zip");
        ModelSerializer.writeModel(tampered, plain.toFile(), false);
        try (ZipFile model = new ZipFile(plain.toFile());
             ZipFile original = new ZipFile(exported.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(bad)))
        {
            final Enumeration<? extends ZipEntry> entries = model.entries();
            while (entries.hasMoreElements())
            {
                copy(model, entries.nextElement(), out);
            }
            copy(original, original.getEntry(VerificationSample.ENTRY), out);
        }
        final CliRun caught = CliRun.of("verify-model", bad.toString());
        assertEquals(BatonCli.EXIT_FAILED, caught.code());
        assertTrue(caught.out().contains("FAIL: output differs from the training graph's"), caught.out());
        assertTrue(caught.out().contains("FAILED " + bad), caught.out());

        final CliRun missing = CliRun.of("export", "--model", dir.resolve("nope").toString(), "--output",
            bad.toString());
        assertEquals(BatonCli.EXIT_USAGE, missing.code());
        assertTrue(missing.err().contains("no model file"), missing.err());

        // Nothing is replaced unasked, and the model being exported never.
        final byte[] exportedBytes = Files.readAllBytes(exported);
        final CliRun again = CliRun.of("export", "--model", dir.toString(), "--output", exported.toString());
        assertEquals(BatonCli.EXIT_USAGE, again.code(), again.err());
        assertTrue(again.err().contains("--output " + exported + " already exists; use --overwrite"), again.err());
        assertArrayEquals(exportedBytes, Files.readAllBytes(exported));
        final byte[] trainedBytes = Files.readAllBytes(dir.resolve("model.zip"));
        final CliRun ontoItself = CliRun.of("export", "--model", dir.toString(), "--output",
            dir.resolve("model.zip").toString(), "--overwrite");
        assertEquals(BatonCli.EXIT_USAGE, ontoItself.code(), ontoItself.err());
        assertTrue(ontoItself.err().contains("is the model being exported"), ontoItself.err());
        assertArrayEquals(trainedBytes, Files.readAllBytes(dir.resolve("model.zip")));
        assertEquals(0, CliRun.of("export", "--model", dir.toString(), "--output", exported.toString(), "--overwrite")
            .code());
    }

    @Test
    void verifyModelOfAFileThatIsNotAZipIsAUsageErrorNamingIt() throws Exception
    {
        final Path notZip = Files.writeString(dir.resolve("model.zip"), "not a model\n");
        final CliRun run = CliRun.of("verify-model", notZip.toString());
        assertEquals(BatonCli.EXIT_USAGE, run.code(), run.out() + run.err());
        assertTrue(run.err().contains("model " + notZip + " is not a zip file"), run.err());
        assertTrue(run.out().isEmpty(), run.out());
    }

    @Test
    void shouldExportTheParametersOfACheckpoint() throws Exception
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null, List.of("model.arch=resnet20",
            "data.image-size=16", "data.synthetic-classes=5", "data.synthetic-val-samples=16", "run.dir=" + dir));
        final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 5);
        graph.params().muli(0.5);
        final List<CheckpointPart> parts = new ArrayList<>(new ReplicaState(graph, null).snapshot());
        parts.add(CheckpointPart.ofBytes(TrainCheckpoint.CONFIG_PART, config.render().getBytes(StandardCharsets.UTF_8)));
        final String checkpointPath;
        try (CheckpointStore store = CheckpointStore.open(dir.resolve("checkpoints").toString(), new Configuration(),
            RetentionPolicy.keepLast(2)))
        {
            checkpointPath = store.write(CheckpointMetadata.of(12, 1, 2, "hash", "dev"), parts).path().toString();
        }

        final Path exported = dir.resolve("from-checkpoint.zip");
        final CliRun export = CliRun.of("export", "--checkpoint", checkpointPath, "--output", exported.toString());
        assertEquals(0, export.code(), export.out() + export.err());
        assertTrue(export.out().contains("(step 12)"), export.out());
        assertArrayEquals(graph.params().toFloatVector(),
            ModelSerializer.restoreComputationGraph(exported.toFile(), false).params().toFloatVector(),
            "the checkpoint's parameters are exported");
        assertEquals(0, CliRun.of("verify-model", exported.toString()).code());

        final CliRun notCheckpoint = CliRun.of("export", "--checkpoint", dir.toString(), "--output",
            exported.toString());
        assertEquals(BatonCli.EXIT_USAGE, notCheckpoint.code());
        assertTrue(notCheckpoint.err().contains("is not a checkpoint directory"), notCheckpoint.err());
    }

    private static void copy(final ZipFile zip, final ZipEntry entry, final ZipOutputStream out) throws Exception
    {
        out.putNextEntry(new ZipEntry(entry.getName()));
        try (InputStream in = zip.getInputStream(entry))
        {
            in.transferTo(out);
        }
        out.closeEntry();
    }
}
