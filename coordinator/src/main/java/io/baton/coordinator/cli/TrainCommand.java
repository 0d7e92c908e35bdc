package io.baton.coordinator.cli;

import io.baton.api.Baton;
import io.baton.api.TrainResult;
import io.baton.common.config.BatonConfig;
import io.baton.coordinator.train.ResumeRequest;
import io.baton.coordinator.train.TrainJob;
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

/** {@code baton train}: trains with N synchronous replicas as one Spark barrier stage. */
@Command(name = "train", description = "Train a ResNet with synchronous data-parallel replicas on Spark.")
public final class TrainCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Option(names = "--data", paramLabel = "URI", description = "Prepared data (output of baton prepare); sets data.path.")
    String data;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master; sets cluster.master (default local[replicas]).")
    String master;

    @Option(names = "--run-dir", paramLabel = "URI", description = "Run directory; sets run.dir.")
    String runDir;

    @Option(names = "--replicas", paramLabel = "N", description = "Number of replicas; sets train.replicas.")
    Integer replicas;

    @Option(names = "--resume", paramLabel = "auto|never|PATH", defaultValue = "auto",
        description = "auto: continue from the newest valid checkpoint of the run directory (default); never: start "
            + "afresh (the earlier run's checkpoints, metrics and model are moved into before-<ms>/); PATH: a "
            + ".../checkpoints/ckpt-<step> directory.")
    String resume;

    @Option(names = "--force", description = "Resume even though trajectory keys of the configuration changed.")
    boolean force;

    @Option(names = "--dry-run", description = "Print the plan (batches, steps, learning rates) and exit.")
    boolean dryRun;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final List<String> extra = new ArrayList<>();
        if (data != null)
        {
            extra.add("data.path=" + data);
        }
        if (master != null)
        {
            extra.add("cluster.master=" + master);
        }
        if (runDir != null)
        {
            extra.add("run.dir=" + runDir);
        }
        if (replicas != null)
        {
            extra.add("train.replicas=" + replicas);
        }
        final BatonConfig loaded = config.load(extra);
        final PrintWriter out = spec.commandLine().getOut();
        final ResumeRequest request = ResumeRequest.parse(resume, force);
        if (dryRun)
        {
            final TrainJob job = new TrainJob(loaded, out, request);
            out.println(job.plan().describe());
            Baton.printDerived(loaded, out);
            if (job.modelNote() != null)
            {
                out.println(job.modelNote());
            }
            if (job.memoryWarning() != null)
            {
                out.println(job.memoryWarning());
            }
            if (!job.dataIdentity().isEmpty())
            {
                out.println("data " + loaded.get(TrainerKeys.DATA_PATH) + ": " + job.dataIdentity());
            }
            out.println(job.runDirectoryPlan());
            out.flush();
            return 0;
        }
        // The CLI is a client of the library API: the same path as a user's program, on a context of its own.
        final TrainResult r = Baton.ownContext().progressTo(out).train(loaded, request);
        if (r.stepsThisCall() == 0 && !Double.isFinite(r.lastLoss()))
        {
            return 0;
        }
        out.printf(Locale.ROOT, "trained %d steps in %.1f s; last loss %s; %s%n", r.stepsThisCall(), r.seconds(),
            Double.isFinite(r.lastLoss()) ? String.format(Locale.ROOT, "%.4f", r.lastLoss())
                : "n/a (no step in this job)", r.valSamples() == 0 ? "not evaluated (run.final-evaluation = false)"
                : String.format(Locale.ROOT, "validation top-1 %.4f top-5 %.4f (%d samples)", r.valTop1(),
                r.valTop5(), r.valSamples()));
        out.flush();
        return 0;
    }
}
