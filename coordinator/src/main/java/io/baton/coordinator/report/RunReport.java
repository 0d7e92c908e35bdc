package io.baton.coordinator.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.common.store.HadoopConf;
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
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a run's report, or several runs' overlaid, from whatever their directories hold now ({@code metrics.jsonl},
 * {@code health.jsonl}, {@code run-events.jsonl}, {@code summary.json}), so it can be regenerated while training runs,
 * and writes it atomically (a temporary file renamed over the old report; on an object store, written in place, which
 * is atomic there). Damaged input is said, not thrown: an unfinished last line is left out, unreadable lines are
 * skipped and counted, runs of different lengths share the step axis; each becomes a note on the page and for the
 * caller.
 *
 * <p>Thread-safe (stateless).
 */
public final class RunReport
{
    /** Health check lines written next to the metrics (one {@code HealthReport} JSON object per line). */
    public static final String HEALTH = RunDirectory.HEALTH;
    /** Default report file name inside the run directory. */
    public static final String REPORT = RunDirectory.REPORT;
    /** File name of a report of several runs, written into the first run's directory unless told otherwise. */
    public static final String COMPARE_REPORT = "report-compare.html";

    private static final ObjectMapper JSON = RunJson.MAPPER;

    private RunReport()
    {
    }

    /**
     * Where a report went, and what its reader should know about the input (also shown on the page).
     *
     * @param path  the page written.
     * @param notes one line each: an unfinished last metrics line left out, unreadable lines skipped, runs that cover
     *              different steps.
     */
    public record Written(Path path, List<String> notes)
    {
    }

    /** The report page of the run, as of now. */
    public static String render(final RunDirectory run)
    {
        return render(List.of(run), new ArrayList<>());
    }

    /** The page of {@code runs} overlaid, as of now; what the reader should know is added to {@code notes}. */
    static String render(final List<RunDirectory> runs, final List<String> notes)
    {
        if (runs.isEmpty())
        {
            throw new IllegalArgumentException("no run directory given");
        }
        final List<ReportPage.Run> read = new ArrayList<>();
        final List<String> names = names(runs);
        for (int k = 0; k < runs.size(); k++)
        {
            read.add(read(runs.get(k), names.get(k), notes));
        }
        if (read.size() > 1)
        {
            final List<String> spans = new ArrayList<>();
            boolean differ = false;
            for (final ReportPage.Run r : read)
            {
                final String span = span(r.metrics());
                differ |= !span.equals(span(read.get(0).metrics()));
                spans.add(r.name() + " " + span);
            }
            if (differ)
            {
                notes.add("the runs cover different steps (" + String.join("; ", spans) + "): they share the step "
                    + "axis, and each run's curve ends where its metrics end");
            }
        }
        return ReportPage.render(read, notes, Instant.now().toString());
    }

    private static ReportPage.Run read(final RunDirectory run, final String name, final List<String> notes)
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
            catch (final JsonProcessingException ex)
            {
                notes.add(name + ": " + RunDirectory.SUMMARY + " is unreadable (" + ex.getOriginalMessage()
                    + ") and was left out");
            }
        }
        if (metrics.rows().isEmpty() && summary == null && !run.hasStepLines(RunDirectory.METRICS))
        {
            throw new IllegalArgumentException("run directory " + run.uri() + " has no " + RunDirectory.METRICS
                + " and no " + RunDirectory.SUMMARY + ": not a Baton run directory, or training has not started");
        }
        if (metrics.partial())
        {
            notes.add(name + ": the unfinished last line of " + RunDirectory.METRICS + " was left out (training is "
                + "still writing it, or the file was cut short)");
        }
        if (metrics.skipped() + health.skipped() + events.skipped() > 0)
        {
            notes.add(name + ": " + (metrics.skipped() + health.skipped() + events.skipped()) + " unreadable line(s) of "
                + RunDirectory.METRICS + ", " + HEALTH + " or " + RunDirectory.EVENTS + " skipped");
        }
        return new ReportPage.Run(name, metrics, health, events, summary);
    }

    /** {@code steps 0-29 (30 lines)}, or {@code no steps yet}. */
    private static String span(final JsonLines metrics)
    {
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (final JsonNode row : metrics.rows())
        {
            final double step = RunJson.number(row.get("step"));
            if (Double.isFinite(step))
            {
                first = Math.min(first, (long) step);
                last = Math.max(last, (long) step);
            }
        }
        return first > last ? "no steps yet" : "steps " + first + "-" + last + " (" + metrics.rows().size() + " lines)";
    }

    /** Each run's directory name; where two are the same, with their parents' names too ({@code 2026-w48/run}). */
    static List<String> names(final List<RunDirectory> runs)
    {
        final List<String> names = new ArrayList<>();
        for (final RunDirectory run : runs)
        {
            names.add(name(run, 1));
        }
        for (int k = 0; k < names.size(); k++)
        {
            if (java.util.Collections.frequency(names, names.get(k)) > 1)
            {
                final String same = names.get(k);
                for (int j = 0; j < names.size(); j++)
                {
                    if (names.get(j).equals(same))
                    {
                        names.set(j, name(runs.get(j), 2));
                    }
                }
            }
        }
        return names;
    }

    private static String name(final RunDirectory run, final int parts)
    {
        final String path = run.uri().getPath();
        final String trimmed = path == null ? "" : path.replaceAll("/+$", "");
        if (trimmed.isEmpty())
        {
            return run.uri().toString();
        }
        final String[] segments = trimmed.split("/");
        final int from = Math.max(0, segments.length - parts);
        return String.join("/", java.util.Arrays.asList(segments).subList(from, segments.length)).replaceAll("^/", "");
    }

    /**
     * Writes the report to {@code output} (any Hadoop FS path or local path; null = {@code report.html} in the run
     * directory) and returns where it went.
     */
    public static Path write(final RunDirectory run, final String output)
    {
        return write(List.of(run), output).path();
    }

    /**
     * Writes the report of {@code runs} (one run, or several overlaid) to {@code output} (null = {@code report.html}
     * in the run directory, or {@link #COMPARE_REPORT} in the first run's directory for several runs).
     */
    public static Written write(final List<RunDirectory> runs, final String output)
    {
        final List<String> notes = new ArrayList<>();
        final String html = render(runs, notes);
        final Path target = output != null ? new Path(new RunDirectory(output).uri())
            : runs.get(0).path(runs.size() == 1 ? REPORT : COMPARE_REPORT);
        return new Written(writePage(target, html), List.copyOf(notes));
    }

    private static Path writePage(final Path target, final String html)
    {
        try
        {
            final FileSystem fs = target.getFileSystem(HadoopConf.fresh());
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
