package io.baton.coordinator.train;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The whole lines appended to one of a run's single-file step logs ({@code metrics.jsonl}) since the last call, for
 * the driver's readers that follow a run while it trains: the progress line ({@link ProgressMonitor}) and the DL4J
 * training master's listeners. Lines already in the file when the tail was made belong to earlier jobs and are
 * skipped; a line still being written is held back until its newline arrives; when the file gets shorter (a stage
 * resumed from a checkpoint and cut the steps after it) the tail starts again from the top of the file. A store that
 * cannot append keeps the log as segments instead ({@link StepSegments}), which this class does not read.
 *
 * <p>Not thread-safe: one reading thread at a time.
 */
public final class MetricsTail
{
    private final RunDirectory run;
    private final String name;
    private long offset;
    private String partial = "";

    /** A tail of {@code run}'s step log {@code name} (e.g. {@link RunDirectory#METRICS}) from its current end. */
    public MetricsTail(final RunDirectory run, final String name)
    {
        this.run = run;
        this.name = name;
        this.offset = length();
    }

    /** True when the log is a single file (or not written yet) rather than segments. */
    public boolean singleFile() throws IOException
    {
        return !run.fileSystem().exists(StepSegments.directory(run, name));
    }

    /** The whole lines appended since the last call (none while the file does not exist), oldest first. */
    public List<String> newLines() throws IOException
    {
        final FileSystem fs = run.fileSystem();
        final Path file = run.path(name);
        if (!fs.exists(file))
        {
            return List.of();
        }
        if (fs.getFileStatus(file).getLen() < offset)
        {
            offset = 0;
            partial = "";
        }
        try (FSDataInputStream in = fs.open(file))
        {
            in.seek(offset);
            final byte[] bytes = in.readAllBytes();
            offset += bytes.length;
            final String text = partial + new String(bytes, StandardCharsets.UTF_8);
            final int end = text.lastIndexOf('\n');
            partial = end < 0 ? text : text.substring(end + 1);
            return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
        }
    }

    /** The file's current length (0 when it does not exist yet or cannot be read). */
    private long length()
    {
        try
        {
            final FileSystem fs = run.fileSystem();
            final Path file = run.path(name);
            return fs.exists(file) ? fs.getFileStatus(file).getLen() : 0;
        }
        catch (final IOException | RuntimeException ex)
        {
            return 0;
        }
    }
}
