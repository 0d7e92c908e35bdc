package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.export.ModelExporter;
import io.baton.trainer.export.VerificationSample;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code baton export}: writes a trained model in inference form (plain BatchNormalization instead of
 * SyncBatchNorm, no updater state) with the verification sidecar {@code baton/verify.json} inside the zip. The
 * model comes from a DL4J zip ({@code --model}; input shape from {@code --input}, else the {@code run.conf} next to
 * it) or from a checkpoint ({@code --checkpoint}; shape and classes from its configuration's data).
 */
@Command(name = "export", description = "Export a trained model in inference form with a verification sample.")
public final class ExportCommand implements Callable<Integer>
{
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source
    {
        @Option(names = "--model", paramLabel = "PATH", required = true,
            description = "A DL4J model zip (a run's model.zip) or a run directory holding model.zip.")
        Path model;

        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
            description = "A checkpoint directory of baton train (.../checkpoints/ckpt-<step>, local or Hadoop FS "
                + "URI); its configuration and data give the input shape and classes.")
        String checkpoint;
    }

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "The zip to write.")
    Path output;

    @Option(names = "--input", paramLabel = "H,W,C", split = ",",
        description = "Input height, width, channels (default: from run.conf next to the model).")
    int[] input;

    @Option(names = "--overwrite", description = "Replace an existing output file.")
    boolean overwrite;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the fixed input (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException
    {
        final BatonConfig loaded = config.load();
        final String from;
        final ComputationGraph graph;
        final InputType.InputTypeConvolutional inputType;
        final List<String> classes;
        if (source.checkpoint != null)
        {
            final CheckpointModel restored = CheckpointModel.load(source.checkpoint);
            checkOutput(null);
            from = source.checkpoint + " (step " + restored.step() + ")";
            graph = restored.graph();
            inputType = input != null ? inputOption() : restored.input();
            classes = restored.classes();
        }
        else
        {
            final Path model = Files.isDirectory(source.model) ? source.model.resolve(RunDirectory.MODEL)
                : source.model;
            if (!Files.isRegularFile(model))
            {
                final CheckpointModel.Newest newest = Files.isDirectory(source.model.resolve(
                    RunDirectory.CHECKPOINTS)) ? CheckpointModel.newestValid(source.model.toString()) : null;
                throw new IllegalArgumentException("--model " + source.model + ": no model file " + model
                    + (newest == null ? "" : " (training not finished?); its newest valid checkpoint is " + newest.location()
                    + ": export it with --checkpoint"));
            }
            checkOutput(model);
            from = model.toString();
            inputType = input != null ? inputOption() : inputFromRunConf(model);
            graph = ModelSerializer.restoreComputationGraph(model.toFile(), false);
            classes = ModelClasses.read(model);
        }
        final VerificationSample sample = ModelExporter.export(graph, inputType, output, seed,
            loaded.get(TrainerKeys.HEALTH_MAX_BN_MEAN), classes);
        final PrintWriter out = spec.commandLine().getOut();
        out.printf("exported %s -> %s: %d parameters, %d BN layers (plain), %d residual blocks, input %s, "
                + "verification sample %s inside the zip, %s%n", from, output, sample.params(), sample.bnLayers(),
            sample.blocks().size(), Arrays.toString(sample.inputShape()), VerificationSample.ENTRY,
            classes.isEmpty() ? "no class names (trained on generated data, or a model from before they were kept)"
                : classes.size() + " class names in " + ModelClasses.ENTRY);
        out.flush();
        return 0;
    }

    /** Refuses to replace the model being exported, or any existing file without --overwrite. */
    private void checkOutput(final Path model) throws IOException
    {
        if (!Files.exists(output))
        {
            return;
        }
        if (model != null && Files.isSameFile(output, model))
        {
            throw new IllegalArgumentException("--output " + output + " is the model being exported; write the "
                + "inference form to another file");
        }
        if (!overwrite)
        {
            throw new IllegalArgumentException("--output " + output + " already exists; use --overwrite to replace it");
        }
    }

    private InputType.InputTypeConvolutional inputOption()
    {
        if (input.length != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0)
        {
            throw new IllegalArgumentException("--input must be H,W,C with three positive integers, was "
                + Arrays.toString(input));
        }
        return (InputType.InputTypeConvolutional)InputType.convolutional(input[0], input[1], input[2]);
    }

    private static InputType.InputTypeConvolutional inputFromRunConf(final Path model) throws IOException
    {
        final Path runConf = model.toAbsolutePath().getParent().resolve(RunDirectory.CONFIG);
        if (!Files.isRegularFile(runConf))
        {
            throw new IllegalArgumentException("no --input given and no " + RunDirectory.CONFIG + " next to " + model
                + " to read data.image-size from; pass --input H,W,C");
        }
        final BatonConfig run = new ConfigLoader(ConfigDef.discover()).loadText(Files.readString(runConf));
        final int size = run.get(TrainerKeys.DATA_IMAGE_SIZE);
        return (InputType.InputTypeConvolutional)InputType.convolutional(size, size, 3);
    }
}
