package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.export.ExportJob;
import io.baton.trainer.TrainerKeys;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
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
            description = "A DL4J model zip (a run's model.zip) or a run directory holding model.zip (local or Hadoop "
                + "FS URI).")
        String model;

        @Option(names = "--checkpoint", paramLabel = "PATH", required = true,
            description = "A checkpoint directory of baton train (.../checkpoints/ckpt-<step>, local or Hadoop FS "
                + "URI); its configuration and data give the input shape and classes.")
        String checkpoint;
    }

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true,
        description = "The zip to write (local or Hadoop FS URI).")
    String output;

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
        new ExportJob(spec.commandLine().getOut()).export(source.checkpoint, source.checkpoint == null ? source.model
            : null, output, overwrite, input, seed, loaded.get(TrainerKeys.HEALTH_MAX_BN_MEAN));
        return 0;
    }
}
