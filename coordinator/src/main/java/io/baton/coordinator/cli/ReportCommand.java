package io.baton.coordinator.cli;

import io.baton.api.Baton;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code baton report RUN_DIR [RUN_DIR...]}: writes the self-contained HTML report of a run, or of several runs overlaid
 * (charts of loss, accuracy, learning rate, images/s, step-time breakdown, health checks; summary numbers per run).
 * Safe to run while training writes; what the reader should know about the input is printed as {@code note:} lines.
 */
@Command(name = "report", description = "Write the self-contained HTML report of a run, or of several runs overlaid "
    + "(e.g. this week's retraining and last week's); can run during training.")
public final class ReportCommand implements Callable<Integer>
{
    @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "Run directory (local path or Hadoop FS URI); "
        + "several are overlaid, one series per run, labelled with the directory's name.")
    List<String> runDirs;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
        description = "Where to write the page (default: report.html in the run directory; for several runs "
            + "report-compare.html in the first one's).")
    String output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final String written = Baton.ownContext().progressTo(spec.commandLine().getOut()).report(runDirs, output);
        spec.commandLine().getOut().println("report: " + written);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
