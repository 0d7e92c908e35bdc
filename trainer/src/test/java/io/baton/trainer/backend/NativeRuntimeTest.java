package io.baton.trainer.backend;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeRuntimeTest
{
    @Test
    void nativeMemoryIsBoundedBelowTheMachinesSoTheGcRunsBeforeTheKernelKills() throws Exception
    {
        // A fresh JVM, as a Baton main or Spark task starts: configure() first, then JavaCPP loads. (In this test
        // JVM other tests may have loaded JavaCPP already, with whatever bound was in force then.)
        final Process child = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
            "-cp", System.getProperty("java.class.path"), Child.class.getName())
            .redirectErrorStream(true).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        final String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, child.exitValue(), out);
        final List<String> lines = out.lines().filter(l -> l.startsWith("BOUND ")).toList();
        assertEquals(1, lines.size(), out);
        final String[] f = lines.get(0).split(" ");
        final long physical = Long.parseLong(f[1]);
        final long property = Long.parseLong(f[2]);
        final long inForce = Long.parseLong(f[3]);
        assertTrue(physical > 0, out);
        assertEquals((long)(physical * NativeRuntime.PHYSICAL_SHARE), property, out);
        // JavaCPP read the property when it loaded: the bound is in force, not just written down (its own default
        // would be 4 x the 256 MB heap, 1 GB).
        assertEquals(property, inForce, out);
    }

    @Test
    void aBoundGivenOnTheCommandLineWins()
    {
        final String before = System.getProperty(NativeRuntime.MAX_PHYSICAL_BYTES);
        try
        {
            System.setProperty(NativeRuntime.MAX_PHYSICAL_BYTES, "12345");
            NativeRuntime.configure();
            assertEquals("12345", System.getProperty(NativeRuntime.MAX_PHYSICAL_BYTES));
        }
        finally
        {
            if (before == null)
            {
                System.clearProperty(NativeRuntime.MAX_PHYSICAL_BYTES);
            }
            else
            {
                System.setProperty(NativeRuntime.MAX_PHYSICAL_BYTES, before);
            }
        }
    }

    /** Runs in the child JVM. */
    public static final class Child
    {
        public static void main(final String[] args) throws IOException
        {
            NativeRuntime.configure();
            System.out.println("BOUND " + NativeRuntime.physicalMemoryBytes() + " "
                + System.getProperty(NativeRuntime.MAX_PHYSICAL_BYTES) + " " + Pointer.maxPhysicalBytes());
        }
    }
}
