package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.evaluate.EvaluateJob;
import io.baton.coordinator.predict.PredictInput;
import io.baton.coordinator.predict.PredictJob;
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

/** {@code baton predict}: a model's class predictions for a prepared split, a folder of images or a Parquet table. */
@Command(name = "predict", description = "Class predictions of a model for every image of a prepared split, a folder "
    + "tree or a Parquet table, written as Parquet or CSV.")
public final class PredictCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Option(names = "--model", paramLabel = "URI", required = true, description = "A model zip, a run directory (its "
        + "model.zip and run.conf) or a checkpoint directory.")
    String model;

    @Option(names = "--input", paramLabel = "URI", required = true, description = "baton prepare's output (one split, "
        + "--split), a folder tree of .jpeg/.jpg/.png images, or a Parquet table (--image-col).")
    String input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true, description = "Where the predictions "
        + "go: a name ending .csv is one CSV file (a column p_<class> per class), anything else a Parquet folder "
        + "(probabilities as an array column).")
    String output;

    @Option(names = "--format", paramLabel = "F", description = "prepared, tree or parquet; default: prepared when "
        + "the input has a manifest.json, parquet for a .parquet name, else tree.")
    String format;

    @Option(names = "--split", paramLabel = "NAME", defaultValue = "val", description = "Split of prepared data "
        + "(default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--image-col", paramLabel = "C", defaultValue = "image", description = "Parquet: the image column, "
        + "encoded bytes, a path or Spark's image struct (default: ${DEFAULT-VALUE}).")
    String imageCol;

    @Option(names = "--name-col", paramLabel = "C", description = "Parquet: the column naming each row; default the "
        + "path of a path column, else the SHA-256 of the bytes.")
    String nameCol;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Images per forward pass "
        + "(default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master; sets cluster.master.")
    String master;

    @Option(names = "--overwrite", description = "Replace an existing output.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final String kind = format != null ? format.toLowerCase(Locale.ROOT) : PredictInput.detect(input);
        if (!PredictInput.FORMATS.contains(kind))
        {
            throw new IllegalArgumentException("--format " + format + " is not one of " + PredictInput.FORMATS);
        }
        if (batch <= 0)
        {
            throw new IllegalArgumentException("--batch " + batch + " must be > 0");
        }
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(model);
        final List<String> extra = new ArrayList<>();
        if (master != null)
        {
            extra.add("cluster.master=" + master);
        }
        final BatonConfig loaded = config.loadForModel(target, extra);
        final PrintWriter out = spec.commandLine().getOut();
        if (target.note() != null)
        {
            out.println(target.note());
            out.flush();
        }
        final PredictJob.Summary summary = new PredictJob(loaded, null).run(target.modelUri(), target.classes(),
            new PredictInput(kind, input, split, imageCol, nameCol), output, overwrite, batch, out);
        out.printf(Locale.ROOT, "predicted %d rows (%d undecodable) with %s into %s%s%n", summary.rows(),
            summary.undecodable(), target.modelUri(), summary.output(), summary.labelled() == 0 ? ""
                : String.format(Locale.ROOT, "; top-1 against the split's labels %.4f", summary.top1()));
        out.printf(Locale.ROOT, "rows=%d undecodable=%d%s%n", summary.rows(), summary.undecodable(),
            summary.labelled() == 0 ? "" : String.format(Locale.ROOT, " top1=%.6f", summary.top1()));
        out.flush();
        return 0;
    }
}
