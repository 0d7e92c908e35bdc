package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.OpsKeys;
import io.baton.coordinator.evaluate.EvaluateJob;
import io.baton.coordinator.retrain.RetrainJob;
import io.baton.coordinator.retrain.RetrainOutcome;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.TrainerKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code baton retrain --from <model, run dir or checkpoint> --data <prepared data|null>}: continued training with the retrain
 * schedule ({@code retrain.*}: epochs, base LR, cosine/constant, no warmup) in this process (world size 1),
 * optional adaptive BN recalibration, and the promotion gate. Exit codes: 0 = promoted to latest.zip,
 * {@value #EXIT_NOT_PROMOTED} = trained but not promoted (kept as a candidate), 1 = failed, 2 = bad usage/config.
 */
@Command(name = "retrain", description = "Continue training a model on new data; promote it if it is not worse.")
public final class RetrainCommand implements Callable<Integer>
{
    /** Exit code when the candidate was kept but not promoted. */
    public static final int EXIT_NOT_PROMOTED = 3;

    @Option(names = "--from", paramLabel = "PATH", required = true,
        description = "Model zip (model.zip, latest.zip, an export), a run directory holding model.zip, or a checkpoint "
            + "directory (.../checkpoints/ckpt-<step>); a local path or a Hadoop FS URI (hdfs://, s3a://).")
    String from;

    @Option(names = "--data", paramLabel = "PATH", required = true,
        description = "Prepared data set (baton prepare output), or null for generated pattern images.")
    String data;

    @Option(names = "--models-dir", paramLabel = "DIR",
        description = "Overrides retrain.models-dir (a local path or a Hadoop FS URI).")
    String modelsDir;

    @Option(names = "--recalibrate-bn", paramLabel = "BATCHES",
        description = "Overrides retrain.recalibrate-bn-batches: re-estimate BN statistics on this many batches.")
    Integer recalibrateBatches;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException
    {
        if (!new RunDirectory(from).fileSystemExists())
        {
            throw new IllegalArgumentException("--from " + from + " does not exist");
        }
        // The model's own settings (its run's configuration, or the size it was exported for) unless -c is given.
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(from);
        final List<String> extra = new ArrayList<>();
        extra.add("data.path=" + ("null".equals(data) ? "null" : quote(data)));
        extra.add("train.replicas=1");
        // One process is one SyncBatchNorm group, and the run's data identity is not the new data's.
        extra.add(TrainerKeys.SYNCBN_GROUP_SIZE.name() + "=0");
        extra.add(TrainerKeys.DATA_IDENTITY.name() + "=\"\"");
        if (recalibrateBatches != null)
        {
            extra.add(OpsKeys.RETRAIN_RECALIBRATE_BN_BATCHES.name() + "=" + recalibrateBatches);
        }
        final BatonConfig first = config.loadForModel(target, extra);
        final int epochs = first.get(OpsKeys.RETRAIN_EPOCHS);
        if (epochs > 0)
        {
            // The retrain schedule replaces the original run's: its own epochs, base LR, no warmup, no step decay.
            extra.add("train.epochs=" + epochs);
            extra.add("optim.base-lr=" + first.get(OpsKeys.RETRAIN_BASE_LR));
            extra.add("optim.schedule=" + first.get(OpsKeys.RETRAIN_SCHEDULE));
            extra.add("optim.warmup-epochs=0");
        }
        final BatonConfig loaded = config.loadForModel(target, extra);
        final String models = modelsDir != null ? modelsDir : loaded.get(OpsKeys.RETRAIN_MODELS_DIR);
        final PrintWriter out = spec.commandLine().getOut();
        final RetrainOutcome outcome = new RetrainJob(loaded, from, models, out).run();
        out.println(outcome.describe());
        out.flush();
        return outcome.promoted() ? 0 : EXIT_NOT_PROMOTED;
    }

    private static String quote(final String value)
    {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
