package io.baton.coordinator.cli;

import io.baton.api.Baton;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code baton report <run dir>}: writes the run's self-contained HTML report (plots of loss, accuracy, learning
 * rate, images/s, step-time breakdown, health checks, summary numbers). Safe to run while training writes.
 */
@Command(name = "report", description = "Write a run's self-contained HTML report (can run during training).")
public final class ReportCommand implements Callable<Integer>
{
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "Run directory (local path or Hadoop FS URI).")
    String runDir;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
        description = "Where to write the page (default: report.html in the run directory).")
    String output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call()
    {
        final String written = Baton.ownContext().report(runDir, output);
        spec.commandLine().getOut().println("report: " + written);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
