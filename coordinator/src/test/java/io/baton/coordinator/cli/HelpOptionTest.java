package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command answers {@code --help} and {@code -h} with its own usage, exit 0, before it does anything. */
class HelpOptionTest
{
    @Test
    void everySubcommandPrintsItsUsageForHelpAndExitsZero()
    {
        final CommandLine cli = new CommandLine(new BatonCli());
        for (final String name : cli.getSubcommands().keySet())
        {
            if (name.equals("help"))
            {
                continue;
            }
            for (final String option : new String[] {"--help", "-h"})
            {
                final StringWriter out = new StringWriter();
                final StringWriter err = new StringWriter();
                final int code = BatonCli.run(new String[] {name, option}, new PrintWriter(out, true),
                    new PrintWriter(err, true));
                assertEquals(0, code, name + " " + option + ": " + err);
                assertTrue(out.toString().startsWith("Usage: baton " + name), name + " " + option + ": " + out);
                assertTrue(err.toString().isEmpty(), name + " " + option + ": " + err);
            }
        }
    }

    @Test
    void helpWinsOverMissingRequiredArguments()
    {
        // prepare requires INPUT and OUTPUT; asking for help must not be a usage error.
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"prepare", "--help"}, new PrintWriter(out, true),
            new PrintWriter(err, true)));
        assertTrue(out.toString().contains("INPUT"), out.toString());
    }
}
