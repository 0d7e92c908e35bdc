package io.baton.coordinator.train;

import io.baton.common.store.LocalWrites;
import io.baton.common.store.Appends;
import io.baton.common.store.OutputStreams;
import io.baton.common.store.StoreSemantics;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.IOUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Opens a run's step-keyed JSON-lines file ({@code metrics.jsonl}, {@code health.jsonl}) for a stage. A stage that
 * resumes from the checkpoint of step P re-trains the steps from P on, so lines of steps >= P that the previous
 * attempt wrote after its checkpoint describe a trajectory that no longer exists: they are removed before the stage
 * appends its own, and the file keeps one line per step, in order (a half-written last line goes too). What happened
 * is recorded in {@code run-events.jsonl}.
 *
 * <p>Only trailing lines are removed. Every earlier resume already cut the file at its checkpoint, so the lines after
 * the one the stage resumes from are all in the numbering of that checkpoint, even when an elastic stage changed the
 * global batch (and with it the step numbering).
 *
 * <p>Threading: called by rank 0 at the start of a stage, while nothing else writes the file.
 */
public final class StepLines
{
    private static final Logger LOG = LoggerFactory.getLogger(StepLines.class);
    private static final Pattern STEP = Pattern.compile("\"step\"\\s*:\\s*(-?\\d+)");

    private StepLines()
    {
    }

    /** Where a stage writes its lines: one line at a time, each visible to readers as soon as the store allows. */
    public interface Sink extends AutoCloseable
    {
        /** Writes one line (without its newline). */
        void write(String line) throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Opens {@code name} of {@code run} for a stage: where the store can append (local disks, HDFS), the single file,
     * cut as {@link #open} does; where it cannot (S3A and other object stores), a new stage of
     * {@link StepSegments}, which readers join with the same cut. Either way readers see one line per step of the
     * surviving trajectory.
     */
    public static Sink sink(final RunDirectory run, final String name, final boolean append,
        final long checkpointStep) throws IOException
    {
        if (!StoreSemantics.appends(run.fileSystem(), run.path(name)))
        {
            final StepSegments.Writer writer = StepSegments.open(run, name, append, checkpointStep,
                StepSegments.ROLL_EVERY);
            return new Sink()
            {
                @Override
                public void write(final String line) throws IOException
                {
                    writer.write(line);
                }

                @Override
                public void close() throws IOException
                {
                    writer.close();
                }
            };
        }
        final FSDataOutputStream out = open(run, name, append, checkpointStep);
        return new Sink()
        {
            @Override
            public void write(final String line) throws IOException
            {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                out.hflush();
            }

            @Override
            public void close() throws IOException
            {
                out.close();
            }
        };
    }

    /**
     * Opens {@code name} of {@code run}: a new file unless {@code append}; otherwise the existing file, cut after its
     * last line of a step before {@code checkpointStep} (all of it when the stage starts from the initial weights,
     * {@code checkpointStep} < 0).
     */
    public static FSDataOutputStream open(final RunDirectory run, final String name, final boolean append,
        final long checkpointStep) throws IOException
    {
        final FileSystem fs = run.fileSystem();
        final Path file = run.path(name);
        if (!append || !fs.exists(file))
        {
            return LocalWrites.create(fs, file);
        }
        final long length = fs.getFileStatus(file).getLen();
        final long from = Math.max(0, checkpointStep);
        final long keep = keptLength(fs, file, length, from);
        if (keep == length)
        {
            return Appends.open(fs, file);
        }
        // Rewritten beside and renamed over: a failure here leaves the old file, never a shorter one half-written.
        final Path staged = run.path("." + name + ".rewrite");
        try (FSDataInputStream in = fs.open(file))
        {
            OutputStreams.writeAndClose(LocalWrites.create(fs, staged), out ->
            {
                IOUtils.copyBytes(in, out, keep, false);
                out.hsync();
            });
        }
        fs.delete(file, false);
        if (!fs.rename(staged, file))
        {
            throw new IOException("cannot rename " + staged + " to " + file);
        }
        LOG.info("{}: removed {} byte(s) of lines of steps >= {}, written after the checkpoint this stage resumes from",
            file, length - keep, from);
        return Appends.open(fs, file);
    }

    /**
     * Length of the prefix of the file that ends with its last complete line of a step before {@code from}. Only the
     * tail is read (a window growing from 1 MB): a long run's file is large, and the lines to cut are few and last.
     */
    private static long keptLength(final FileSystem fs, final Path file, final long length, final long from)
        throws IOException
    {
        for (long window = 1 << 20; ; window *= 4)
        {
            final long start = Math.max(0, length - window);
            final byte[] tail = new byte[(int) (length - start)];
            try (FSDataInputStream in = fs.open(file))
            {
                in.readFully(start, tail);
            }
            final int kept = keptLength(tail, from, start == 0);
            if (kept >= 0)
            {
                return start + kept;
            }
        }
    }

    /**
     * Length of the prefix of {@code bytes} that ends with the last complete line of a step before {@code from}; -1
     * when {@code bytes} is a tail window ({@code !atFileStart}) in which no such line is found, so the window must
     * grow (its first, possibly partial, line is not judged).
     */
    static int keptLength(final byte[] bytes, final long from, final boolean atFileStart)
    {
        final int first = atFileStart ? 0 : firstNewline(bytes) + 1;
        if (!atFileStart && first == 0)
        {
            return -1; // not even one whole line in the window
        }
        int end = bytes.length;
        if (end > 0 && bytes[end - 1] != '\n')
        {
            end = lastNewline(bytes, end) + 1; // a half-written last line
        }
        while (end > first)
        {
            final int start = lastNewline(bytes, end - 1) + 1;
            final Matcher m = STEP.matcher(new String(bytes, start, end - start, StandardCharsets.UTF_8));
            if (m.find() && Long.parseLong(m.group(1)) < from)
            {
                return end;
            }
            end = start;
        }
        return atFileStart ? 0 : -1;
    }

    /** Index of the first '\n', or -1. */
    private static int firstNewline(final byte[] bytes)
    {
        for (int i = 0; i < bytes.length; i++)
        {
            if (bytes[i] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    /** Index of the last '\n' before {@code before}, or -1. */
    private static int lastNewline(final byte[] bytes, final int before)
    {
        for (int i = before - 1; i >= 0; i--)
        {
            if (bytes[i] == '\n')
            {
                return i;
            }
        }
        return -1;
    }
}
