package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.evaluate.EvaluateJob;
import io.baton.trainer.run.Evaluator;
import io.baton.trainer.TrainerKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code baton evaluate}: distributed top-1/top-5 of a trained model over the validation split. */
@Command(name = "evaluate", description = "Distributed top-1/top-5 of a model over the validation split.")
public final class EvaluateCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Option(names = "--model", paramLabel = "URI", description = "A model zip, a run directory (its model.zip and run.conf; its newest checkpoint while it has "
            + "no model.zip), or a checkpoint directory (.../checkpoints/ckpt-<step>).")
    String model;

    @Option(names = "--data", paramLabel = "URI", description = "Prepared data; sets data.path.")
    String data;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master; sets cluster.master.")
    String master;

    @Option(names = "--replicas", paramLabel = "N", description = "Evaluating replicas; sets train.replicas.")
    Integer replicas;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        if (model == null)
        {
            throw new IllegalArgumentException("--model is required: a model zip, a run directory or a checkpoint directory");
        }
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(model);
        final List<String> extra = new ArrayList<>();
        if (data != null)
        {
            extra.add("data.path=" + data);
        }
        if (master != null)
        {
            extra.add("cluster.master=" + master);
        }
        if (replicas != null)
        {
            extra.add("train.replicas=" + replicas);
            // Evaluation needs no divisible batch; keep the per-replica batch valid for any replica count.
            extra.add("train.global-batch=" + replicas * 32);
        }
        final BatonConfig loaded = config.loadForModel(target, extra);
        final PrintWriter out = spec.commandLine().getOut();
        if (target.note() != null)
        {
            out.println(target.note());
            out.flush();
        }
        final Evaluator.Result r = new EvaluateJob(loaded).run(target.modelUri(), target.classes(), out);
        out.printf(Locale.ROOT, "evaluated %s on %d samples with %d replicas (%s): top-1 %.4f  top-5 %.4f  loss %.4f%n",
            target.modelUri(), r.samples(), loaded.get(TrainerKeys.TRAIN_REPLICAS),
            loaded.get(CoordinatorKeys.CLUSTER_MASTER) == null ? "local" : loaded.get(CoordinatorKeys.CLUSTER_MASTER),
            r.top1(), r.top5(), r.loss());
        out.printf(Locale.ROOT, "top1=%.6f top5=%.6f samples=%d%n", r.top1(), r.top5(), r.samples());
        out.flush();
        return 0;
    }
}
