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
 * Renders the training report: one self-contained HTML page (no external script, style, font or image; the plots
 * are inline SVG drawn by inline JavaScript from the data embedded in the page). Every plot's {@code <svg>} gets
 * {@code data-drawn="<points>"} once drawn; the summary cells ({@code id="stat-..."}) are computed by the same
 * script from the embedded metrics, so what the page shows is what the metrics file holds.
 *
 * <p>Thread-safe (stateless).
 */
public final class ReportPage
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] METRIC_FIELDS = {"step", "epoch", "step_in_epoch", "steps_per_epoch", "lr", "loss",
        "top1", "images", "images_per_sec", "step_ms", "data_wait_ms", "comm_ms", "grad_norm"};

    private ReportPage()
    {
    }

    /**
     * @param title    run name shown in the heading.
     * @param metrics  the metrics lines.
     * @param health   the health check lines.
     * @param events   the driver's run events (starts, resumes, failures, rollbacks, elastic changes).
     * @param summary  summary.json (null while training runs).
     * @param generated when the page was generated (shown as is).
     */
    public static String render(final String title, final JsonLines metrics, final JsonLines health,
        final JsonLines events, final JsonNode summary, final String generated)
    {
        final ObjectNode data = JSON.createObjectNode();
        data.put("title", title);
        data.put("generated", generated);
        data.put("skipped_lines", metrics.skipped() + health.skipped());
        data.put("partial_line", metrics.partial());
        final ArrayNode rows = data.putArray("metrics");
        for (final JsonNode row : metrics.rows())
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
        final ArrayNode fields = data.putArray("fields");
        for (final String field : METRIC_FIELDS)
        {
            fields.add(field);
        }
        data.set("health", JSON.valueToTree(health.rows()));
        data.set("events", JSON.valueToTree(events.rows()));
        data.set("summary", summary == null ? JSON.nullNode() : summary);
        final String json;
        try
        {
            json = JSON.writeValueAsString(data).replace("</", "<\\/");
        }
        catch (final JsonProcessingException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return template().replace("/*BATON_TITLE*/", escape(title)).replace("/*BATON_DATA*/", json)
            .replace("/*BATON_SCRIPT*/", resource("report.js"));
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
