package io.baton.coordinator.prepare;

import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrepareProgressTest
{
    @Test
    void closingThePrinterStopsItSoNoLineFollowsTheCallersNext() throws Exception
    {
        final PrepareProgress progress = new PrepareProgress(new LongAccumulator(), new LongAccumulator());
        progress.start("train", 10);
        final StringWriter text = new StringWriter();
        final PrintWriter out = new PrintWriter(text, true);
        final PrepareProgress.Printer printer = progress.printer(out, 1);
        final long deadlineNs = System.nanoTime() + 10_000_000_000L;
        while (!text.toString().contains("prepare train") && System.nanoTime() < deadlineNs)
        {
            Thread.sleep(1);
        }
        assertTrue(text.toString().contains("prepare train"), "the printer printed: " + text);

        printer.close();
        assertFalse(printer.isAlive(), "the printer still runs after close()");
        out.println("final line");
        Thread.sleep(50);
        assertTrue(text.toString().endsWith("final line" + System.lineSeparator()), text.toString());
        printer.close();
        assertEquals(1, text.toString().split("final line", -1).length - 1);
    }
}
