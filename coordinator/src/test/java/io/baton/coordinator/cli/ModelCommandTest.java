package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCommandTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args)
    {
        return BatonCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private String lastLine()
    {
        final String[] lines = out.toString().strip().split("\\R");
        return lines[lines.length - 1];
    }

    @Test
    void resnet152EndsWithTorchvisionParameterCount()
    {
        assertEquals(0, run("model", "--arch", "resnet152"), err.toString());
        assertEquals("params=60192808", lastLine());
        assertTrue(out.toString().contains("60,344,232"), out.toString());
        assertTrue(out.toString().contains("oneDNN helpers active"), out.toString());
    }

    @Test
    void resnet50EndsWithTorchvisionParameterCount()
    {
        assertEquals(0, run("model", "--arch", "resnet50"), err.toString());
        assertEquals("params=25557032", lastLine());
    }

    @Test
    void inputAndClassesComeFromTheCommandLine()
    {
        assertEquals(0, run("model", "--arch", "resnet20", "--input", "28,28,1", "--classes", "10"), err.toString());
        // ResNet-20 with a 1-channel stem: 269,722 - 2 x 9 x 16 stem weights.
        assertEquals("params=" + (269_722 - 2 * 9 * 16), lastLine());
    }

    @Test
    void unknownArchitectureExitsWithUsageCodeListingKnownOnes()
    {
        assertEquals(BatonCli.EXIT_USAGE, run("model", "--arch", "resnet9"));
        assertTrue(err.toString().contains("model.arch = \"resnet9\": not allowed"), err.toString());
        assertTrue(err.toString().contains("resnet152"), err.toString());
    }

    @Test
    void badInputShapeIsNamed()
    {
        assertEquals(BatonCli.EXIT_USAGE, run("model", "--arch", "resnet20", "--input", "32,32"));
        assertTrue(err.toString().contains("--input must be H,W,C"), err.toString());
    }
}
