package io.baton.coordinator.export;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.common.store.StagedFile;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.export.ModelExporter;
import io.baton.trainer.export.VerificationSample;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a trained model in inference form (plain BatchNormalization instead of SyncBatchNorm, no updater state) with
 * the verification sidecar {@code baton/verify.json} inside the zip: {@code baton export} and the library API's
 * {@code export}. The model comes from a DL4J zip or a run directory holding {@code model.zip} (input shape from the
 * caller, else the {@code run.conf} next to it) or from a checkpoint directory (shape and classes from its
 * configuration's data).
 *
 * <p>Threading: the caller's thread.
 */
public final class ExportJob
{
    /** Seed of the verification sample's fixed input unless the caller gives one. */
    public static final long DEFAULT_SEED = 1;

    private final PrintWriter out;

    public ExportJob(final PrintWriter out)
    {
        this.out = out;
    }

    /**
     * Exports a checkpoint directory ({@link CheckpointModel#isCheckpoint}) or a model zip / run directory, with the
     * default seed and BN-statistics limit.
     *
     * @param model  a local path or Hadoop FS URI.
     * @param output a local path or Hadoop FS URI.
     * @param input  {height, width, channels}, or null for the model's own.
     */
    public VerificationSample export(final String model, final String output, final boolean overwrite,
        final int[] input)
    {
        final double maxBnMean = new ConfigLoader(ConfigDef.discover()).defaults().get(TrainerKeys.HEALTH_MAX_BN_MEAN);
        return CheckpointModel.isCheckpoint(model) && new RunDirectory(model).isDirectory()
            ? export(model, null, output, overwrite, input, DEFAULT_SEED, maxBnMean)
            : export(null, model, output, overwrite, input, DEFAULT_SEED, maxBnMean);
    }

    /**
     * @param checkpoint   a checkpoint directory (local or Hadoop FS URI), or null.
     * @param model        a model zip or a run directory holding model.zip (local or Hadoop FS URI), or null (exactly
     *                     one of the two).
     * @param output       the zip to write (local or Hadoop FS URI).
     * @param input        {height, width, channels}, or null for the model's own.
     * @param seed         seed of the verification sample's input.
     * @param maxBnMeanAbs BN running means beyond +-this refuse the export.
     */
    public VerificationSample export(final String checkpoint, final String model, final String output,
        final boolean overwrite, final int[] input, final long seed, final double maxBnMeanAbs)
    {
        try
        {
            return exportChecked(checkpoint, model, output, overwrite, input, seed, maxBnMeanAbs);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
    }

    private VerificationSample exportChecked(final String checkpoint, final String modelLocation, final String output,
        final boolean overwrite, final int[] input, final long seed, final double maxBnMeanAbs) throws IOException
    {
        final String from;
        final ComputationGraph graph;
        final InputType.InputTypeConvolutional inputType;
        final List<String> classes;
        final StagedFile staged;
        if (checkpoint != null)
        {
            final CheckpointModel restored = CheckpointModel.load(checkpoint);
            staged = StagedFile.write(output, overwrite, "--output " + output);
            from = checkpoint + " (step " + restored.step() + ")";
            graph = restored.graph();
            inputType = input != null ? inputOption(input) : restored.input();
            classes = restored.classes();
        }
        else
        {
            final RunDirectory named = new RunDirectory(modelLocation);
            final String model = !named.isDirectory() ? modelLocation : StagedFile.isLocal(modelLocation)
                ? Path.of(StagedFile.toUri(modelLocation)).resolve(RunDirectory.MODEL).toString()
                : named.path(RunDirectory.MODEL).toString();
            if (!new RunDirectory(model).fileSystemExists() || new RunDirectory(model).isDirectory())
            {
                final CheckpointModel.Newest newest = named.isDirectory() && named.exists(RunDirectory.CHECKPOINTS)
                    ? CheckpointModel.newestValid(modelLocation) : null;
                throw new IllegalArgumentException("--model " + modelLocation + ": no model file " + model
                    + (newest == null ? "" : " (training not finished?); its newest valid checkpoint is "
                    + newest.location() + ": export it with --checkpoint"));
            }
            if (StagedFile.toUri(output).normalize().equals(StagedFile.toUri(model).normalize())
                || StagedFile.isLocal(output) && StagedFile.isLocal(model) && Files.exists(Path.of(StagedFile.toUri(
                output))) && Files.isSameFile(Path.of(StagedFile.toUri(output)), Path.of(StagedFile.toUri(model))))
            {
                throw new IllegalArgumentException("--output " + output + " is the model being exported; write the "
                    + "inference form to another file");
            }
            staged = StagedFile.write(output, overwrite, "--output " + output);
            from = model;
            try (StagedFile zip = StagedFile.read(model))
            {
                inputType = input != null ? inputOption(input) : inputFromRunConf(model);
                graph = ModelSerializer.restoreComputationGraph(zip.local().toFile(), false);
                classes = ModelClasses.read(zip.local());
            }
        }
        final VerificationSample sample;
        try (staged)
        {
            sample = ModelExporter.export(graph, inputType, staged.local(), seed, maxBnMeanAbs, classes);
            staged.publish();
        }
        out.printf("exported %s -> %s: %d parameters, %d BN layers (plain), %d residual blocks, input %s, "
                + "verification sample %s inside the zip, %s%n", from, output, sample.params(), sample.bnLayers(),
            sample.blocks().size(), Arrays.toString(sample.inputShape()), VerificationSample.ENTRY,
            classes.isEmpty() ? "no class names (trained on generated data, or a model from before they were kept)"
                : classes.size() + " class names in " + ModelClasses.ENTRY);
        out.flush();
        return sample;
    }

    private static InputType.InputTypeConvolutional inputOption(final int[] input)
    {
        if (input.length != 3 || input[0] <= 0 || input[1] <= 0 || input[2] <= 0)
        {
            throw new IllegalArgumentException("--input must be H,W,C with three positive integers, was "
                + Arrays.toString(input));
        }
        return (InputType.InputTypeConvolutional)InputType.convolutional(input[0], input[1], input[2]);
    }

    private static InputType.InputTypeConvolutional inputFromRunConf(final String model)
    {
        final org.apache.hadoop.fs.Path parent = new org.apache.hadoop.fs.Path(StagedFile.toUri(model)).getParent();
        final RunDirectory beside = parent == null ? null : new RunDirectory(parent.toString());
        if (beside == null || !beside.exists(RunDirectory.CONFIG))
        {
            throw new IllegalArgumentException("no --input given and no " + RunDirectory.CONFIG + " next to " + model
                + " to read data.image-size from; pass --input H,W,C");
        }
        final BatonConfig run = new ConfigLoader(ConfigDef.discover()).loadText(beside.readText(RunDirectory.CONFIG));
        final int size = run.get(TrainerKeys.DATA_IMAGE_SIZE);
        return (InputType.InputTypeConvolutional)InputType.convolutional(size, size, 3);
    }
}
