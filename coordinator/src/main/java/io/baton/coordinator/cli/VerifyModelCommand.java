package io.baton.coordinator.cli;

import io.baton.common.store.StagedFile;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.export.ModelVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.zip.ZipFile;

/**
 * {@code baton verify-model model.zip}: reloads an exported model and checks the known input -> output pair, the
 * BN running statistics and every shape-changing block's projection shortcut. Exit 0 when all pass; 1 with one
 * {@code FAIL:} line per problem otherwise.
 */
@Command(name = "verify-model", description = "Verify an exported model: known output, BN statistics, shortcuts.")
public final class VerifyModelCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "MODEL_ZIP",
        description = "A zip written by baton export: a local path or a Hadoop FS URI (hdfs://, s3a://).")
    String model;

    @Option(names = "--abs-tolerance", paramLabel = "X", description = "Override the sidecar's absolute tolerance.")
    Double absTolerance;

    @Option(names = "--rel-tolerance", paramLabel = "X", description = "Override the sidecar's relative tolerance.")
    Double relTolerance;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final StagedFile staged;
        try
        {
            staged = StagedFile.read(model);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("model " + ex.getMessage(), ex);
        }
        try (staged)
        {
            return verify(staged.local());
        }
    }

    private int verify(final Path local)
    {
        requireZip(local, model);
        final double maxBnMean = config.load().get(TrainerKeys.HEALTH_MAX_BN_MEAN);
        final ModelVerifier.Result result = ModelVerifier.verify(local,
            absTolerance == null ? Double.NaN : absTolerance, relTolerance == null ? Double.NaN : relTolerance,
            maxBnMean);
        final PrintWriter out = spec.commandLine().getOut();
        for (final String problem : result.problems())
        {
            out.println("FAIL: " + problem);
        }
        out.println(String.format(Locale.ROOT, "%s %s: %d blocks, %d BN layers checked, max |output difference| %.3g",
            result.passed() ? "OK" : "FAILED", model, result.blocksChecked(), result.bnLayersChecked(),
            result.maxAbsDifference()));
        out.println(classes(local));
        out.flush();
        return result.passed() ? 0 : BatonCli.EXIT_FAILED;
    }

    /** A file that is not a zip at all is a wrong argument, not a model that failed verification. */
    private static void requireZip(final Path model, final String named)
    {
        try (ZipFile ignored = new ZipFile(model.toFile()))
        {
            // opened: a zip; what is inside is the verifier's to judge
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("model " + named + " is not a zip file (" + ex.getMessage()
                + "); verify-model reads a zip written by baton export");
        }
    }

    /** What the model's outputs mean, as recorded in the zip. */
    private static String classes(final Path model)
    {
        try
        {
            final List<String> names = ModelClasses.read(model);
            return names.isEmpty() ? "classes: none recorded (trained on generated data, or written before Baton kept "
                + "them)" : "classes: " + names.size() + " (output 0 = " + names.get(0) + ", output "
                + (names.size() - 1) + " = " + names.get(names.size() - 1) + ") in " + ModelClasses.ENTRY;
        }
        catch (final RuntimeException ex)
        {
            return "classes: unreadable (" + ex.getMessage() + ")";
        }
    }
}
