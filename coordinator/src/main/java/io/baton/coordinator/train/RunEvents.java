package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.common.store.KeptLineFile;
import io.baton.trainer.run.RunJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.LinkedHashMap;
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

    /** Longest wait for the store to take the kept events where the record must be complete. */
    static final Duration FLUSH_LIMIT = Duration.ofSeconds(60);

    private final KeptLineFile file;

    RunEvents(final RunDirectory run)
    {
        this.file = new KeptLineFile(run.fileSystem(), run.path(FILE));
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
        // A store that is briefly away (a NameNode restart) must not end the run that it records: the event is
        // kept and written with the next one.
        final IOException failed = file.append(line);
        if (failed != null)
        {
            LOG.warn("cannot append to {} now ({}); {} event(s) kept and written with the next one", file.file(),
                failed.getMessage(), file.keptLines());
        }
    }

    /**
     * Writes the events kept from failed appends, waiting up to {@link #FLUSH_LIMIT} for the store.
     *
     * @throws UncheckedIOException naming the file when they could not be written
     */
    void flush()
    {
        try
        {
            file.flush(FLUSH_LIMIT);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex.getMessage(), ex);
        }
    }

    /** {@link #flush} for a run that is failing already: a failure is logged, not thrown over the run's own. */
    void flushQuietly(final Duration limit)
    {
        if (file.keptLines() == 0)
        {
            return;
        }
        try
        {
            file.flush(limit);
        }
        catch (final IOException ex)
        {
            LOG.error("run events lost: {}", ex.getMessage());
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

    /** An event's fields from alternating names and values, in that order. */
    static Map<String, Object> fields(final Object... kv)
    {
        final Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2)
        {
            map.put((String) kv[i], kv[i + 1]);
        }
        return map;
    }
}
