package io.baton.coordinator.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.trainer.run.RunJson;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The complete lines of a JSON-lines file that is being appended to: a last line without its newline is still
 * being written and is left out, as is any line that does not parse (counted, so the report can say so).
 *
 * @param rows     parsed objects, in file order.
 * @param skipped  complete lines that did not parse.
 * @param partial  whether an unterminated last line was left out.
 */
public record JsonLines(List<JsonNode> rows, int skipped, boolean partial)
{
    private static final ObjectMapper JSON = RunJson.MAPPER;

    /** Parses {@code text} (null = the file does not exist: no rows). */
    public static JsonLines parse(final String text)
    {
        final List<JsonNode> rows = new ArrayList<>();
        if (text == null || text.isEmpty())
        {
            return new JsonLines(rows, 0, false);
        }
        final int end = text.lastIndexOf('\n');
        final boolean partial = end < text.length() - 1 && !text.substring(end + 1).isBlank();
        int skipped = 0;
        if (end >= 0)
        {
            for (final String line : text.substring(0, end).split("\n"))
            {
                if (line.isBlank())
                {
                    continue;
                }
                try
                {
                    final JsonNode node = JSON.readTree(line);
                    if (node != null && node.isObject())
                    {
                        rows.add(node);
                        continue;
                    }
                }
                catch (final IOException ex)
                {
                    // counted below: a damaged line must not hide the others
                }
                skipped++;
            }
        }
        return new JsonLines(rows, skipped, partial);
    }

    /** The last row, or null. */
    public JsonNode last()
    {
        return rows.isEmpty() ? null : rows.get(rows.size() - 1);
    }
}
