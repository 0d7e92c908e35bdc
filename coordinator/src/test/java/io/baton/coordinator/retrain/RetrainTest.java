package io.baton.coordinator.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.cli.BatonCli;
import io.baton.coordinator.cli.RetrainCommand;
import io.baton.coordinator.lock.DirectoryLock;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.export.ModelVerifier;
import io.baton.trainer.recipe.TrainingRecipe;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code baton retrain} on generated data: the promotion gate both ways, with and without BN recalibration. */
class RetrainTest
{
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "data.synthetic-samples=128", "data.synthetic-val-samples=64", "data.synthetic-classes=4",
        "data.loader-threads=1", "train.global-batch=16", "train.replicas=1", "optim.base-batch=16",
        "optim.momentum=0.9", "retrain.base-lr=0.05", "retrain.schedule=constant", "retrain.epochs=4",
        "retrain.promotion-tolerance=0.01");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static String[] retrain(final Path from, final Path models, final String... extra)
    {
        final List<String> args = new ArrayList<>(List.of("retrain", "--from", from.toString(), "--data", "null",
            "--models-dir", models.toString()));
        for (final String s : SETTINGS)
        {
            args.add("--set");
            args.add(s);
        }
        args.addAll(List.of(extra));
        return args.toArray(new String[0]);
    }

    private static int run(final String[] args, final StringWriter out)
    {
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(args, new PrintWriter(out), new PrintWriter(err));
        assertTrue(code == 0 || code == RetrainCommand.EXIT_NOT_PROMOTED, "exit " + code + ": " + err + out);
        return code;
    }

    /** {@code run/model.zip}: the untrained ResNet-20 of {@link #SETTINGS}. */
    private Path untrainedModel() throws Exception
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null, SETTINGS);
        final Path model = dir.resolve("run/model.zip");
        Files.createDirectories(model.getParent());
        ModelSerializer.writeModel(TrainingRecipe.replicaGraph(config, new int[] {16, 16, 3}, 4), model.toFile(),
            false);
        return model;
    }

    @Test
    void shouldPromoteABetterModelAndKeepAWorseOneAsCandidate() throws Exception
    {
        final Path untrained = untrainedModel();
        final Path models = dir.resolve("models");

        // 1. No latest yet: the first candidate (the untrained model, BN statistics re-estimated) becomes latest.
        final StringWriter out1 = new StringWriter();
        assertEquals(0, run(retrain(untrained.getParent(), models, "--set", "retrain.epochs=0", "--recalibrate-bn",
            "2"), out1), out1.toString());
        final byte[] baseline = Files.readAllBytes(models.resolve(RetrainJob.LATEST));

        // 2. Training on the data beats it: promoted.
        final StringWriter out2 = new StringWriter();
        assertEquals(0, run(retrain(untrained, models), out2), out2.toString());
        final List<JsonNode> decisions = promotions(models);
        assertEquals(2, decisions.size());
        final JsonNode promoted = decisions.get(1);
        assertTrue(promoted.get("promoted").asBoolean());
        assertTrue(promoted.get("candidate_top1").asDouble() > promoted.get("current_top1").asDouble() + 0.1,
            "trained candidate is clearly better: " + promoted);
        assertEquals(decisions.get(0).get("candidate_top1").asDouble(), promoted.get("current_top1").asDouble(),
            "the current model is scored on the same data");
        final byte[] trained = Files.readAllBytes(models.resolve(RetrainJob.LATEST));
        assertArrayEquals(Files.readAllBytes(Path.of(promoted.get("candidate").asText())), trained,
            "latest.zip is the promoted candidate");
        assertFalse(java.util.Arrays.equals(baseline, trained));
        assertTrue(out2.toString().contains("PROMOTED"), out2.toString());
        assertTrue(Files.readString(Path.of(promoted.get("candidate").asText().replace(".zip", ""), "metrics.jsonl"))
            .lines().count() == 4 * 8, "4 epochs x 8 steps of metrics for baton report");

        // 3. The untrained model again: worse than latest by more than the tolerance, kept as a candidate only.
        final StringWriter out3 = new StringWriter();
        assertEquals(RetrainCommand.EXIT_NOT_PROMOTED, run(retrain(untrained, models, "--set", "retrain.epochs=0",
            "--recalibrate-bn", "2"), out3), out3.toString());
        final JsonNode rejected = promotions(models).get(2);
        assertFalse(rejected.get("promoted").asBoolean());
        assertTrue(rejected.get("candidate_top1").asDouble() < rejected.get("current_top1").asDouble() - 0.01,
            rejected.toString());
        assertTrue(Files.isRegularFile(Path.of(rejected.get("candidate").asText())), "candidate kept");
        assertArrayEquals(trained, Files.readAllBytes(models.resolve(RetrainJob.LATEST)), "latest unchanged");
        assertTrue(out3.toString().contains("NOT PROMOTED (kept as candidate)"), out3.toString());
    }

    @Test
    void withoutAConfigFileTheRunsConfigurationDecidesTheImageSizeAndAConfigFileThatDisagreesIsRefused()
        throws Exception
    {
        // A run trained at 16x16, with its run.conf: retrain without -c or image size must not use resnet20's own 32.
        final Path untrained = untrainedModel();
        Files.writeString(untrained.resolveSibling("run.conf"),
            new ConfigLoader(ConfigDef.discover()).load(null, SETTINGS).render());
        final Path models = dir.resolve("models");
        final StringWriter out = new StringWriter();
        assertEquals(0, run(new String[] {"retrain", "--from", untrained.getParent().toString(), "--data", "null",
            "--models-dir", models.toString(), "--set", "retrain.epochs=0"}, out), out.toString());
        final JsonNode decision = promotions(models).get(0);
        final long[] nchw = ModelVerifier.readSample(Path.of(decision.get("candidate").asText())).inputShape();
        assertArrayEquals(new long[] {3, 16, 16}, new long[] {nchw[1], nchw[2], nchw[3]},
            "the candidate was made for the run's 16x16 images");

        // A config file at another size (not set there: resnet20's own, 32) is refused before anything is written.
        final Path conf = Files.writeString(dir.resolve("other.conf"), "train.global-batch = 16\n");
        final StringWriter err = new StringWriter();
        assertEquals(BatonCli.EXIT_USAGE, BatonCli.run(new String[] {"retrain", "--from", untrained.toString(),
            "--data", "null", "--models-dir", dir.resolve("models2").toString(), "-c", conf.toString()},
            new PrintWriter(new StringWriter()), new PrintWriter(err)));
        assertTrue(err.toString().contains("data.image-size = 32 (from " + conf + ", derived from model.arch = resnet20)"
            + " but the model "), err.toString());
        assertTrue(err.toString().contains("was made for 16x16 images; add --set data.image-size=16"), err.toString());
        assertFalse(Files.exists(dir.resolve("models2")), "nothing written");
    }

    @Test
    void aSecondRetrainOnAModelsDirectoryInUseIsRefusedWithExit4BeforeItWritesAnything() throws Exception
    {
        final Path model = untrainedModel();
        final Path models = Files.createDirectories(dir.resolve("models"));
        try (DirectoryLock scheduledEarlier = DirectoryLock.acquire(FileSystem.getLocal(new Configuration()).getRaw(),
            new org.apache.hadoop.fs.Path(models.toUri()), "baton retrain", Duration.ofSeconds(60)))
        {
            final StringWriter err = new StringWriter();
            final int code = BatonCli.run(retrain(model, models), new PrintWriter(new StringWriter()),
                new PrintWriter(err));
            assertEquals(BatonCli.EXIT_IN_USE, code, err.toString());
            assertTrue(err.toString().contains(" is in use by baton retrain on "), err.toString());
        }
        try (var files = Files.list(models))
        {
            assertEquals(List.of(), files.toList(), "the refused retrain wrote into the models directory");
        }
    }

    @Test
    void gateComparesAgainstCurrentMinusTolerance()
    {
        final PromotionGate gate = new PromotionGate(0.02);
        assertTrue(gate.promotes(0.50, Double.NaN), "no current model");
        assertTrue(gate.promotes(0.48, 0.50), "within tolerance");
        assertFalse(gate.promotes(0.4799, 0.50));
        assertFalse(gate.promotes(Double.NaN, 0.1), "an unscorable candidate never wins");
        assertThrows(IllegalArgumentException.class, () -> new PromotionGate(-0.1));
    }

    private static List<JsonNode> promotions(final Path models) throws Exception
    {
        final List<JsonNode> rows = new ArrayList<>();
        for (final String line : Files.readAllLines(models.resolve(RetrainJob.PROMOTIONS)))
        {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }
}
