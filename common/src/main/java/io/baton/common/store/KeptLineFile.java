package io.baton.common.store;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSON-lines record (a run's {@code run-events.jsonl}) that outlives a short outage of its store. An append that
 * fails (an HDFS NameNode restarting or in safe mode, a write pipeline that lost its datanodes) does not end the
 * writer: the line is kept in memory, in order, and written before the next line once the store takes writes again.
 * {@link #flush} waits for the store, bounded, where the record must be complete (at the end of a run).
 *
 * <p>Why not retry in {@link #append}: the writer is the driver, whose relaunch of a failed stage must not wait on
 * a record; the stage's own checkpoint and metrics writes meet the outage anyway and fail the stage, which is
 * relaunched from the newest checkpoint.
 *
 * <p>Threading: one writer thread (the holder of the directory's lock).
 */
public final class KeptLineFile
{
    private static final long FIRST_PAUSE_MS = 250;
    private static final long LONGEST_PAUSE_MS = 4_000;

    private final FileSystem fs;
    private final Path file;
    private final List<String> kept = new ArrayList<>();
    private boolean maybeTorn;

    public KeptLineFile(final FileSystem fs, final Path file)
    {
        this.fs = fs;
        this.file = file;
    }

    public Path file()
    {
        return file;
    }

    /**
     * Appends {@code line} (ending with a newline) after the lines kept from earlier failures.
     *
     * @return null when everything is written, else the failure; the lines not written are kept
     */
    public IOException append(final String line)
    {
        kept.add(line);
        try
        {
            writeKept();
            return null;
        }
        catch (final IOException ex)
        {
            return ex;
        }
    }

    /** Lines kept in memory because their append failed. */
    public int keptLines()
    {
        return kept.size();
    }

    /**
     * Writes the kept lines, trying again with growing pauses for at most {@code limit}.
     *
     * @throws IOException the last failure, naming the file and how many lines are still kept, when the store
     *                     did not take them within {@code limit}
     */
    public void flush(final Duration limit) throws IOException
    {
        final long deadline = System.nanoTime() + limit.toNanos();
        long pauseMs = FIRST_PAUSE_MS;
        while (true)
        {
            try
            {
                writeKept();
                return;
            }
            catch (final IOException ex)
            {
                if (System.nanoTime() + pauseMs * 1_000_000 - deadline > 0)
                {
                    throw new IOException("cannot write " + kept.size() + " line(s) to " + file + " within "
                        + limit.toSeconds() + " s: " + ex.getMessage(), ex);
                }
            }
            try
            {
                Thread.sleep(pauseMs);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted with " + kept.size() + " line(s) not written to "
                    + file);
            }
            pauseMs = Math.min(LONGEST_PAUSE_MS, pauseMs * 2);
        }
    }

    private void writeKept() throws IOException
    {
        if (kept.isEmpty())
        {
            return;
        }
        final StringBuilder lines = new StringBuilder();
        if (maybeTorn && !endsWithNewline())
        {
            // The failed append may have left part of a line: end it, so the kept line that follows stays whole
            // (readers skip the fragment as an unreadable line).
            lines.append('\n');
        }
        kept.forEach(lines::append);
        try
        {
            LineFiles.append(fs, file, lines.toString());
        }
        catch (final IOException ex)
        {
            maybeTorn = true;
            throw ex;
        }
        maybeTorn = false;
        kept.clear();
    }

    private boolean endsWithNewline() throws IOException
    {
        final FileStatus status;
        try
        {
            status = fs.getFileStatus(file);
        }
        catch (final FileNotFoundException ex)
        {
            return true;
        }
        if (status.getLen() == 0)
        {
            return true;
        }
        try (FSDataInputStream in = fs.open(file))
        {
            in.seek(status.getLen() - 1);
            return in.read() == '\n';
        }
    }
}
