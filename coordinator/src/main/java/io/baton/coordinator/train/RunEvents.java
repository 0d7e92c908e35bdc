package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.common.store.Appends;
import io.baton.common.store.OutputStreams;
import io.baton.common.store.StoreSemantics;
import io.baton.trainer.run.RunJson;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
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
        final FileSystem fs = run.fileSystem();
        final Path file = run.path(FILE);
        if (!StoreSemantics.appends(fs, file))
        {
            rewrite(fs, file, line);
            return;
        }
        try
        {
            OutputStreams.writeAndClose(fs.exists(file) ? Appends.open(fs, file) : fs.create(file, false), out ->
            {
                out.write(line.getBytes(StandardCharsets.UTF_8));
                out.hsync();
            });
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

    /**
     * On a store without append (S3A): the file is written again whole with the line added. A store of this kind
     * shows an object whole or not at all, so readers see the old events or the new ones, never half; events are
     * few (starts, resumes, failures), so the rewrite stays small. One writer: the driver holding the run's lock.
     */
    private void rewrite(final FileSystem fs, final Path file, final String line)
    {
        final String before = run.readText(FILE);
        final String prefix = before == null || before.isEmpty() || before.endsWith("\n") ? (before == null ? ""
            : before) : before.substring(0, before.lastIndexOf('\n') + 1);
        try (FSDataOutputStream out = fs.create(file, true))
        {
            out.write((prefix + line).getBytes(StandardCharsets.UTF_8));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + file + ": " + ex.getMessage(), ex);
        }
    }
}
