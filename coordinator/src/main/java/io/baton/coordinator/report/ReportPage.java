package io.baton.coordinator.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.trainer.run.RunJson;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Renders the training report: one self-contained HTML page (no external script, style, font or image): the charts
 * are uPlot ({@code uplot/}, MIT, inlined with its style sheet) drawn by inline JavaScript ({@code report.js}) from the
 * data embedded in the page. One page shows one run, or several overlaid (one series per run, labelled with the run's
 * name; runs with different steps share the step axis). Every chart's host gets {@code data-points="<n>"} once drawn;
 * the summary cells ({@code id="stat-..."}, {@code stat-...-<k>} for the k-th further run) are computed by the same
 * script from the embedded metrics, so what the page shows is what the metrics files hold.
 *
 * <p>Thread-safe (stateless).
 */
public final class ReportPage
{
    private static final ObjectMapper JSON = RunJson.MAPPER;
    private static final String[] METRIC_FIELDS = {"step", "epoch", "step_in_epoch", "steps_per_epoch", "lr", "loss",
        "top1", "images", "images_per_sec", "step_ms", "data_wait_ms", "comm_ms", "grad_norm"};

    /**
     * One run's files as read now.
     *
     * @param name     the run's label (its directory's name).
     * @param metrics  the metrics lines.
     * @param health   the health check lines.
     * @param events   the driver's run events (starts, resumes, failures, rollbacks, elastic changes).
     * @param summary  summary.json (null while training runs).
     */
    public record Run(String name, JsonLines metrics, JsonLines health, JsonLines events, JsonNode summary)
    {
    }

    private ReportPage()
    {
    }

    /** The page of one run, without notes. */
    public static String render(final String title, final JsonLines metrics, final JsonLines health,
        final JsonLines events, final JsonNode summary, final String generated)
    {
        return render(List.of(new Run(title, metrics, health, events, summary)), List.of(), generated);
    }

    /**
     * @param runs      the runs, overlaid in this order (the first is the reference of the summary's first column).
     * @param notes     what the reader should know about the input (an unfinished last line, runs of different
     *                  lengths), shown at the top.
     * @param generated when the page was generated (shown as is).
     */
    public static String render(final List<Run> runs, final List<String> notes, final String generated)
    {
        final ObjectNode data = JSON.createObjectNode();
        data.put("generated", generated);
        final ArrayNode noteArray = data.putArray("notes");
        notes.forEach(noteArray::add);
        final ArrayNode runArray = data.putArray("runs");
        for (final Run run : runs)
        {
            final ObjectNode r = runArray.addObject();
            r.put("name", run.name());
            r.put("skipped_lines", run.metrics().skipped() + run.health().skipped());
            r.put("partial_line", run.metrics().partial());
            final ArrayNode fields = r.putArray("fields");
            for (final String field : METRIC_FIELDS)
            {
                fields.add(field);
            }
            final ArrayNode rows = r.putArray("metrics");
            for (final JsonNode row : run.metrics().rows())
            {
                final ArrayNode values = rows.addArray();
                for (final String field : METRIC_FIELDS)
                {
                    final double d = RunJson.number(row.get(field));
                    if (Double.isFinite(d))
                    {
                        values.add(d);
                    }
                    else
                    {
                        values.addNull();
                    }
                }
            }
            r.set("health", JSON.valueToTree(run.health().rows()));
            r.set("events", JSON.valueToTree(run.events().rows()));
            r.set("summary", run.summary() == null ? JSON.nullNode() : run.summary());
        }
        final String json;
        try
        {
            json = JSON.writeValueAsString(data).replace("</", "<\\/");
        }
        catch (final JsonProcessingException ex)
        {
            throw new UncheckedIOException(ex);
        }
        final String title = escape(String.join(" vs ", runs.stream().map(Run::name).toList()));
        // The data last: nothing in it is taken for a placeholder.
        return template().replace("/*BATON_UPLOT_CSS*/", resource("uplot/uPlot.min.css"))
            .replace("/*BATON_UPLOT*/", resource("uplot/uPlot.iife.min.js"))
            .replace("/*BATON_SCRIPT*/", resource("report.js"))
            .replace("/*BATON_TITLE*/", title)
            .replace("/*BATON_DATA*/", json);
    }

    static String escape(final String text)
    {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String template()
    {
        return resource("report.html");
    }

    private static String resource(final String name)
    {
        try (InputStream in = ReportPage.class.getResourceAsStream(name))
        {
            if (in == null)
            {
                throw new IllegalStateException("report resource " + name + " missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** Field order of each embedded metrics row. */
    public static List<String> metricFields()
    {
        return List.of(METRIC_FIELDS);
    }
}
