package io.baton.coordinator.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.common.store.StoreSemantics;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.run.RunJson;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Builds a run's report from whatever its directory holds now ({@code metrics.jsonl}, {@code health.jsonl},
 * {@code run-events.jsonl}, {@code summary.json}), so it can be regenerated while training runs, and writes it atomically (a temporary file
 * renamed over the old report; on an object store, written in place, which is atomic there).
 *
 * <p>Thread-safe (stateless).
 */
public final class RunReport
{
    /** Health check lines written next to the metrics (one {@code HealthReport} JSON object per line). */
    public static final String HEALTH = RunDirectory.HEALTH;
    /** Default report file name inside the run directory. */
    public static final String REPORT = RunDirectory.REPORT;

    private static final ObjectMapper JSON = RunJson.MAPPER;

    private RunReport()
    {
    }

    /** The report page of the run, as of now. */
    public static String render(final RunDirectory run)
    {
        final JsonLines metrics = JsonLines.parse(run.readStepLines(RunDirectory.METRICS));
        final JsonLines health = JsonLines.parse(run.readStepLines(HEALTH));
        final JsonLines events = JsonLines.parse(run.readText(RunDirectory.EVENTS));
        JsonNode summary = null;
        final String summaryText = run.readText(RunDirectory.SUMMARY);
        if (summaryText != null && !summaryText.isBlank())
        {
            try
            {
                summary = JSON.readTree(summaryText);
            }
            catch (final IOException ex)
            {
                summary = null;
            }
        }
        if (metrics.rows().isEmpty() && summary == null && !run.hasStepLines(RunDirectory.METRICS))
        {
            throw new IllegalArgumentException("run directory " + run.uri() + " has no " + RunDirectory.METRICS
                + " and no " + RunDirectory.SUMMARY + ": not a Baton run directory, or training has not started");
        }
        final String path = run.uri().getPath();
        final String trimmed = path == null ? "" : path.replaceAll("/+$", "");
        final String title = trimmed.isEmpty() ? run.uri().toString() : trimmed.substring(trimmed.lastIndexOf('/') + 1);
        return ReportPage.render(title, metrics, health, events, summary, Instant.now().toString());
    }

    /**
     * Writes the report to {@code output} (any Hadoop FS path or local path; null = {@code report.html} in the run
     * directory) and returns where it went.
     */
    public static Path write(final RunDirectory run, final String output)
    {
        final String html = render(run);
        final Path target = output == null ? run.path(REPORT) : new Path(new RunDirectory(output).uri());
        try
        {
            final FileSystem fs = target.getFileSystem(new org.apache.hadoop.conf.Configuration());
            final FileSystem raw = fs instanceof org.apache.hadoop.fs.LocalFileSystem local ? local.getRaw() : fs;
            final Path qualified = raw.makeQualified(target);
            if (!StoreSemantics.atomicRename(raw))
            {
                // An object store shows a file whole once written (a PUT), and its rename is a copy: write in place.
                try (FSDataOutputStream out = raw.create(qualified, true))
                {
                    out.write(html.getBytes(StandardCharsets.UTF_8));
                }
                return qualified;
            }
            final Path staging = new Path(qualified.getParent(), "." + qualified.getName() + ".tmp");
            try (FSDataOutputStream out = raw.create(staging, true))
            {
                out.write(html.getBytes(StandardCharsets.UTF_8));
            }
            raw.delete(qualified, false);
            if (!raw.rename(staging, qualified))
            {
                throw new IOException("rename " + staging + " -> " + qualified + " failed");
            }
            return qualified;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write report " + target + ": " + ex.getMessage(), ex);
        }
    }
}
