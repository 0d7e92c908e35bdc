package io.baton.coordinator.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * What one in-process {@code baton} command returned and printed, for the CLI tests.
 *
 * @param code the exit code.
 * @param out  its standard output.
 * @param err  its standard error.
 */
record CliRun(int code, String out, String err)
{
    /** Runs {@code baton args} in this JVM. */
    static CliRun of(final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(code, out.toString(), err.toString());
    }

    /** {@code args} followed by {@code --set S} for each of {@code settings}. */
    static String[] withSettings(final List<String> settings, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of(args));
        for (final String s : settings)
        {
            all.add("--set");
            all.add(s);
        }
        return all.toArray(new String[0]);
    }
}
