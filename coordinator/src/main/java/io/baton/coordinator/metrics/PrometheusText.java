package io.baton.coordinator.metrics;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Prometheus text exposition (format 0.0.4) of the latest step metrics line and the latest health check line.
 * Gauges only: each scrape shows the newest values; {@code baton_step} tells the step they belong to.
 *
 * <p>Thread-safe (stateless).
 */
public final class PrometheusText
{
    private static final String[][] STEP_GAUGES = {
        {"step", "baton_step", "Global step (0-based) of the latest metrics line."},
        {"epoch", "baton_epoch", "Epoch of the latest step."},
        {"lr", "baton_learning_rate", "Learning rate applied at the latest step."},
        {"loss", "baton_loss", "Mean loss over the global batch of the latest step."},
        {"top1", "baton_batch_top1", "Top-1 accuracy of the latest global batch (NaN when not measured)."},
        {"images_per_sec", "baton_images_per_second", "Global images per second over the latest step."},
        {"step_ms", "baton_step_seconds", "Wall time of the latest step."},
        {"data_wait_ms", "baton_data_wait_seconds", "Time the latest step waited for data."},
        {"comm_ms", "baton_comm_seconds", "Time in collectives during the latest step."},
        {"grad_norm", "baton_grad_norm", "L2 norm of the averaged gradient of the latest step."},
    };

    private PrometheusText()
    {
    }

    /**
     * @param metrics latest metrics line, or null.
     * @param health  latest health line, or null.
     */
    public static String render(final JsonNode metrics, final JsonNode health)
    {
        final StringBuilder out = new StringBuilder(2048);
        gauge(out, "baton_up", "1 while the endpoint serves; the other series appear once training writes.", 1);
        if (metrics != null)
        {
            for (final String[] g : STEP_GAUGES)
            {
                final JsonNode v = metrics.get(g[0]);
                if (v != null)
                {
                    final double value = number(v);
                    gauge(out, g[1], g[2], g[0].endsWith("_ms") ? value / 1000.0 : value);
                }
            }
        }
        if (health != null)
        {
            gauge(out, "baton_health_step", "Step after which the latest health check ran.",
                number(health.path("step")));
            gauge(out, "baton_health_warnings", "Warnings of the latest health check.",
                health.path("warnings").size());
            labelled(out, "baton_health_max_activation", "Max |activation| at each block's output.", "block",
                health.path("blocks"), "max_activation");
            labelled(out, "baton_health_dead_fraction", "Fraction of dead ReLU channels per block.", "block",
                health.path("blocks"), "dead_fraction");
            header(out, "baton_health_grad_norm", "Gradient L2 norm per stage at the latest health check.");
            final Iterator<Map.Entry<String, JsonNode>> stages = health.path("grad_norm").fields();
            while (stages.hasNext())
            {
                final Map.Entry<String, JsonNode> stage = stages.next();
                sample(out, "baton_health_grad_norm{stage=\"" + label(stage.getKey()) + "\"}", number(stage.getValue()));
            }
        }
        return out.toString();
    }

    private static void labelled(final StringBuilder out, final String name, final String help, final String label,
        final JsonNode rows, final String field)
    {
        header(out, name, help);
        for (final JsonNode row : rows)
        {
            sample(out, name + "{" + label + "=\"" + label(row.path(label).asText()) + "\"}", number(row.path(field)));
        }
    }

    private static void gauge(final StringBuilder out, final String name, final String help, final double value)
    {
        header(out, name, help);
        sample(out, name, value);
    }

    private static void header(final StringBuilder out, final String name, final String help)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
    }

    private static void sample(final StringBuilder out, final String series, final double value)
    {
        out.append(series).append(' ').append(format(value)).append('\n');
    }

    static String format(final double value)
    {
        if (Double.isNaN(value))
        {
            return "NaN";
        }
        if (Double.isInfinite(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15)
        {
            return Long.toString((long)value);
        }
        return String.format(Locale.ROOT, "%s", value);
    }

    private static double number(final JsonNode v)
    {
        if (v == null || v.isNull() || v.isMissingNode())
        {
            return Double.NaN;
        }
        if (v.isNumber())
        {
            return v.asDouble();
        }
        try
        {
            return Double.parseDouble(v.asText());
        }
        catch (final NumberFormatException ex)
        {
            return Double.NaN;
        }
    }

    private static String label(final String value)
    {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
