package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.common.store.LineFiles;
import io.baton.trainer.run.RunJson;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Map;

/**
 * The run's record of what happened to it, {@code run-events.jsonl}: one JSON object per event (start, resume,
 * restart after a failure, non-finite rollback, elastic change of world size or batch, completion), each with its
 * wall time. Appended by the driver across driver restarts (rewritten whole on a store without append); every event
 * is also logged.
 *
 * <p>Threading: the driver's thread.
 */
final class RunEvents
{
    static final String FILE = RunDirectory.EVENTS;
    private static final Logger LOG = LoggerFactory.getLogger(RunEvents.class);
    private static final MathContext SIX_DIGITS = new MathContext(6);

    private final RunDirectory run;

    RunEvents(final RunDirectory run)
    {
        this.run = run;
    }

    /** Appends one event; {@code loud} events are logged as warnings. */
    void record(final String event, final Map<String, Object> fields, final boolean loud)
    {
        final String line = RunJson.line(event(event, System.currentTimeMillis(), fields)) + "\n";
        if (loud)
        {
            LOG.warn("run event: {}", line.trim());
        }
        else
        {
            LOG.info("run event: {}", line.trim());
        }
        final Path file = run.path(FILE);
        try
        {
            // Append where the store has it, else the (small) file written again whole: LineFiles.
            LineFiles.append(run.fileSystem(), file, line);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot append to " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The event as a JSON object ({@link RunJson}): {@code event}, {@code time_ms}, then the fields in order. A finite
     * number is a JSON number (a double rounded to six significant digits); anything else, NaN and infinities
     * included, is its text, as the file has always held.
     */
    static ObjectNode event(final String event, final long timeMs, final Map<String, Object> fields)
    {
        final ObjectNode o = RunJson.object();
        o.put("event", event);
        o.put("time_ms", timeMs);
        for (final Map.Entry<String, Object> e : fields.entrySet())
        {
            final Object v = e.getValue();
            if (v instanceof Double || v instanceof Float)
            {
                final double d = ((Number)v).doubleValue();
                if (Double.isFinite(d))
                {
                    o.put(e.getKey(), new BigDecimal(d).round(SIX_DIGITS).doubleValue());
                }
                else
                {
                    o.put(e.getKey(), String.valueOf(v));
                }
            }
            else if (v instanceof Number n)
            {
                o.put(e.getKey(), n.longValue());
            }
            else
            {
                o.put(e.getKey(), String.valueOf(v));
            }
        }
        return o;
    }
}
