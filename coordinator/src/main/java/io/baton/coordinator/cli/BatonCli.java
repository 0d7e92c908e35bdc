package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfigException;
import io.baton.common.store.StoreErrors;
import io.baton.coordinator.lock.DirectoryInUseException;
import io.baton.coordinator.spark.NotEnoughSlotsException;
import io.baton.trainer.backend.NativeRuntime;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code baton} command line: one entry point whose subcommands are the user-facing jobs. Exit codes: 0 on
 * success, 1 when the job failed, 2 for bad usage or an invalid configuration (nothing was started), 4 when another
 * job holds the directory the command would write (nothing was started).
 */
@Command(
    name = "baton",
    // INHERIT: every subcommand takes -h/--help and -V/--version too ("baton train --help" was an unknown option).
    scope = CommandLine.ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = BatonCli.Version.class,
    description = "Synchronous data-parallel ResNet training on Spark.",
    subcommands = {DemoCommand.class, ModelCommand.class, ConfigCommand.class, TrainCommand.class, EvaluateCommand.class,
        PrepareCommand.class, PlanCommand.class, ReportCommand.class, ExportCommand.class, VerifyModelCommand.class,
        RetrainCommand.class, PredictCommand.class, CommandLine.HelpCommand.class})
public final class BatonCli
{
    /** Exit code of a failed job. */
    public static final int EXIT_FAILED = 1;
    /** Exit code of bad usage or invalid configuration. */
    public static final int EXIT_USAGE = 2;
    /** Exit code when another job holds the run (or models) directory: a scheduler can tell "still running". */
    public static final int EXIT_IN_USE = 4;

    public static void main(final String[] args) throws Exception
    {
        final String missing = ProvidedClasses.missing();
        if (missing != null)
        {
            System.err.println("baton: " + missing);
            System.exit(EXIT_USAGE);
        }
        NativeRuntime.configure();
        int code;
        try
        {
            code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        }
        catch (final Throwable ex)
        {
            // An Error (e.g. NoClassDefFoundError from a cluster's mismatched library) passes picocli's handler: without
            // this, Spark's and Aeron's non-daemon threads kept the driver JVM alive after main ended.
            System.err.println("baton failed: " + ex);
            ex.printStackTrace(System.err);
            code = EXIT_FAILED;
        }
        if (YarnClusterDriver.isThisJvm())
        {
            // The user thread of Spark's ApplicationMaster: System.exit would end the AM before it reports a status.
            YarnClusterDriver.exit(code);
            return;
        }
        System.exit(code);
    }

    /** Runs the CLI without exiting the JVM (tests and embedding). */
    public static int run(final String[] args, final PrintWriter out, final PrintWriter err)
    {
        NativeRuntime.configure();
        final CommandLine cli = new CommandLine(new BatonCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) ->
        {
            final String storeProblem = StoreErrors.explain(ex);
            if (storeProblem != null)
            {
                // A missing bucket, refused credentials: the user's to fix, said in one line (nothing was written).
                commandLine.getErr().println("baton " + commandLine.getCommandName() + ": " + storeProblem);
                return EXIT_USAGE;
            }
            if (ex instanceof BatonConfigException || ex instanceof IllegalArgumentException
                || ex instanceof NotEnoughSlotsException)
            {
                commandLine.getErr().println("baton " + commandLine.getCommandName() + ": " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (causedBy(ex, UnsupportedFileSystemException.class))
            {
                // A URI whose scheme no FileSystem on the class path serves: the command line's to fix.
                commandLine.getErr().println("baton " + commandLine.getCommandName() + ": " + ex.getMessage()
                    + "; no Hadoop FileSystem for that scheme is on the class path (s3a:// needs hadoop-aws, gs:// "
                    + "the GCS connector), or the URI is mistyped");
                return EXIT_USAGE;
            }
            if (ex instanceof DirectoryInUseException)
            {
                commandLine.getErr().println("baton " + commandLine.getCommandName() + ": " + ex.getMessage());
                return EXIT_IN_USE;
            }
            commandLine.getErr().println("baton " + commandLine.getCommandName() + " failed: " + ex);
            ex.printStackTrace(commandLine.getErr());
            return EXIT_FAILED;
        });
        return cli.execute(args);
    }

    private static boolean causedBy(final Throwable ex, final Class<? extends Throwable> type)
    {
        for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            if (type.isInstance(t))
            {
                return true;
            }
        }
        return false;
    }

    /** Prints Baton's version and the ND4J backend it was built for. */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[] {"baton " + NativeRuntime.version() + " (backend " + NativeRuntime.backend()
                + NativeRuntime.buildExtension() + ")"};
        }
    }
}
