package io.baton.common.collective;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM of a process test (a collective worker, a stranger) with its output lines collected as they come; the
 * test waits for a line, writes to its standard input, or waits for it to end. The reader thread is the only writer
 * of the lines; the test thread reads them under their lock.
 */
final class ChildProcess
{
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final CompletableFuture<Void> done;

    ChildProcess(final Process process)
    {
        this.process = process;
        done = CompletableFuture.runAsync(() ->
        {
            try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = reader.readLine()) != null)
                {
                    synchronized (lines)
                    {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            }
            catch (final IOException ignored)
            {
                // the process was killed: its output ends here
            }
        });
    }

    Process process()
    {
        return process;
    }

    /** The first line starting with {@code prefix}, waiting up to {@code timeoutMs}; fails if it ends without one. */
    String awaitLine(final String prefix, final long timeoutMs) throws InterruptedException
    {
        final long end = System.currentTimeMillis() + timeoutMs;
        synchronized (lines)
        {
            while (true)
            {
                for (final String line : lines)
                {
                    if (line.startsWith(prefix))
                    {
                        return line;
                    }
                }
                final long left = end - System.currentTimeMillis();
                if (left <= 0 || !process.isAlive() && done.isDone())
                {
                    throw new AssertionError("no line starting with " + prefix + " within " + timeoutMs
                        + " ms; output: " + lines);
                }
                lines.wait(Math.min(left, 100));
            }
        }
    }

    /** Writes one line to its standard input. */
    void send(final String line) throws IOException
    {
        final OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Closes its standard input. */
    void closeInput() throws IOException
    {
        process.getOutputStream().close();
    }

    /** Waits for it to end and returns every line it printed. */
    List<String> finish(final long timeoutMs) throws Exception
    {
        assertTrue(process.waitFor(timeoutMs, TimeUnit.MILLISECONDS), "child process still running: " + lines());
        done.get(10, TimeUnit.SECONDS);
        return lines();
    }

    /** The lines printed so far. */
    List<String> lines()
    {
        synchronized (lines)
        {
            return new ArrayList<>(lines);
        }
    }
}
