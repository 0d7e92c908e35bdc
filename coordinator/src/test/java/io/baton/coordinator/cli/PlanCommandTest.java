package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanCommandTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args)
    {
        return BatonCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void printsAssumptionsAndOneRowPerReplicaCountAndLink()
    {
        assertEquals(0, run("plan", "--arch", "resnet152", "--replicas", "8..512", "--link-gbps", "25..400",
            "--images-per-sec-per-gpu", "100"), err.toString());
        final String text = out.toString();
        assertTrue(text.contains("60,344,232 DL4J params"), text);
        assertTrue(text.contains("efficiency 0.75"), text);
        assertTrue(text.contains("memory per replica"), text);
        assertEquals(7 * 5, text.lines().filter(l -> l.matches("\\| \\d+ \\| \\d+ \\|.*")).count(), text);
        assertTrue(text.contains("| 512 | 25 |"), text);
    }

    @Test
    void badRangeIsAUsageError()
    {
        assertEquals(BatonCli.EXIT_USAGE, run("plan", "--replicas", "7..512", "--images-per-sec-per-gpu", "100"));
        assertTrue(err.toString().contains("powers of two"), err.toString());
    }
}
