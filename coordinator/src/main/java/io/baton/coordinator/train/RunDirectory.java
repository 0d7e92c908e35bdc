package io.baton.coordinator.train;

import io.baton.common.store.HadoopConf;
import io.baton.common.store.LocalWrites;
import io.baton.common.store.OutputStreams;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A run's directory on any Hadoop FileSystem: {@code metrics.jsonl} (one JSON object per step, written by rank 0),
 * {@code run.conf} (the effective configuration), {@code model.zip} (the final model), {@code summary.json},
 * {@code run-events.jsonl} and {@code checkpoints/}. Local paths use the raw local file system, so appended lines are
 * visible to readers at once. On a store that cannot append (S3A), metrics and health lines are segment files that
 * {@link #readStepLines} joins ({@link StepSegments}) and the events file is rewritten whole ({@code RunEvents}).
 */
public final class RunDirectory
{
    public static final String METRICS = "metrics.jsonl";
    public static final String CONFIG = "run.conf";
    public static final String MODEL = "model.zip";
    public static final String SUMMARY = "summary.json";
    public static final String CHECKPOINTS = "checkpoints";
    /** Health check reports written next to the metrics (one JSON object per line). */
    public static final String HEALTH = "health.jsonl";
    /** The report page {@code baton report} writes by default. */
    public static final String REPORT = "report.html";
    /** The driver's record of starts, resumes, failures, rollbacks and elastic changes (one JSON object per line). */
    public static final String EVENTS = "run-events.jsonl";

    private final URI root;

    public RunDirectory(final String location)
    {
        final URI uri = URI.create(location.replace(" ", "%20"));
        this.root = withoutTrailingSlash(uri.getScheme() == null
            ? java.nio.file.Path.of(location).toAbsolutePath().toUri() : uri);
    }

    /**
     * java.nio ends the URI of an existing directory with a slash (and of a missing one not), and a user may type one:
     * without it, the location's last name ({@code ckpt-<step>}, the run's name) is the same in every case.
     */
    private static URI withoutTrailingSlash(final URI uri)
    {
        final String path = uri.getPath();
        final String text = uri.toString();
        if (path == null || path.length() <= 1 || !path.endsWith("/") || !text.endsWith("/"))
        {
            return uri;
        }
        return URI.create(text.substring(0, text.length() - 1));
    }

    public URI uri()
    {
        return root;
    }

    public Path path(final String name)
    {
        return new Path(new Path(root), name);
    }

    public FileSystem fileSystem()
    {
        try
        {
            final FileSystem fs = FileSystem.get(root, HadoopConf.fresh());
            return fs instanceof LocalFileSystem local ? local.getRaw() : fs;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot open run directory " + root + ": " + ex.getMessage(), ex);
        }
    }

    public void mkdirs()
    {
        try
        {
            LocalWrites.mkdirs(fileSystem(), new Path(root));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create run directory " + root + ": " + ex.getMessage(), ex);
        }
    }

    public void writeText(final String name, final String text)
    {
        try
        {
            OutputStreams.writeAndClose(LocalWrites.create(fileSystem(), path(name)), out ->
            {
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.hsync();
            });
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + path(name) + ": " + ex.getMessage(), ex);
        }
    }

    /** The file's text, or null when it does not exist. */
    public String readText(final String name)
    {
        final FileSystem fs = fileSystem();
        try
        {
            if (!fs.exists(path(name)))
            {
                return null;
            }
            try (FSDataInputStream in = fs.open(path(name)))
            {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + path(name) + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The lines of a step-keyed JSON-lines file ({@link #METRICS}, {@link #HEALTH}) as readers should see them: the
     * single file where the store appends, joined with its segments where it does not ({@link StepSegments}); null
     * when the run has neither.
     */
    public String readStepLines(final String name)
    {
        try
        {
            return StepSegments.read(this, name);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + path(name) + ": " + ex.getMessage(), ex);
        }
    }

    /** True when the run has {@code name} as a single file or as segments. */
    public boolean hasStepLines(final String name)
    {
        return exists(name) || exists(StepSegments.directoryName(name));
    }

    /** True when the location itself exists (a file or a directory). */
    public boolean fileSystemExists()
    {
        try
        {
            return fileSystem().exists(new Path(root));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** True when the location is a directory. */
    public boolean isDirectory()
    {
        try
        {
            return fileSystem().getFileStatus(new Path(root)).isDirectory();
        }
        catch (final java.io.FileNotFoundException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    public boolean exists(final String name)
    {
        try
        {
            return fileSystem().exists(path(name));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
