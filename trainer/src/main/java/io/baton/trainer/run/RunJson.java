package io.baton.trainer.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;

/**
 * The one JSON writer (and reader) of a run's files: {@code metrics.jsonl}, {@code run-events.jsonl},
 * {@code health.jsonl} and {@code summary.json} are built as Jackson trees and written by this mapper
 * ({@code com.fasterxml.jackson}, the project's own, not the copy ND4J shades).
 *
 * <p>Non-finite numbers: JSON has no NaN or infinity. A double that is NaN or infinite is written as the string
 * {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"} (Jackson's {@link JsonWriteFeature#WRITE_NAN_AS_STRINGS},
 * which is what Baton's hand-built lines wrote before), so every line stays strict JSON that any reader parses;
 * Baton's readers turn those strings back into the doubles ({@link #number}). The reader also accepts the bare
 * tokens {@code NaN}, {@code Infinity} and {@code -Infinity} ({@link JsonReadFeature#ALLOW_NON_NUMERIC_NUMBERS}),
 * so a line written by another tool that way is read rather than skipped. Where a file's readers expect
 * {@code null} instead (the summary, health reports), the writer puts null ({@link #putFiniteOrNull}).
 */
public final class RunJson
{
    /** Shared, thread-safe once configured. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
        .enable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .build();

    private RunJson()
    {
    }

    /** A new empty object. */
    public static ObjectNode object()
    {
        return MAPPER.createObjectNode();
    }

    /** {@code node} as one line of JSON, without a line end. */
    public static String line(final ObjectNode node)
    {
        try
        {
            return MAPPER.writeValueAsString(node);
        }
        catch (final JsonProcessingException ex)
        {
            throw new UncheckedIOException("cannot write JSON: " + ex.getMessage(), ex);
        }
    }

    /** Puts {@code value}, or null when it is NaN or infinite (for files whose readers take null as "none"). */
    public static void putFiniteOrNull(final ObjectNode node, final String field, final double value)
    {
        if (Double.isFinite(value))
        {
            node.put(field, value);
        }
        else
        {
            node.putNull(field);
        }
    }

    /** {@code value} rounded to {@code decimals} places (a non-finite value unchanged), to keep lines short. */
    public static double rounded(final double value, final int decimals)
    {
        if (!Double.isFinite(value))
        {
            return value;
        }
        final double scale = Math.pow(10, decimals);
        final double r = Math.round(value * scale) / scale;
        return Double.isFinite(r) && Math.abs(value) < 1e15 ? r : value;
    }

    /**
     * A number field as written by {@link #MAPPER}: a JSON number, or one of the strings {@code "NaN"},
     * {@code "Infinity"}, {@code "-Infinity"}; NaN for anything else (missing, null, other text).
     */
    public static double number(final JsonNode v)
    {
        if (v == null || v.isNull() || v.isMissingNode())
        {
            return Double.NaN;
        }
        if (v.isNumber())
        {
            return v.asDouble();
        }
        if (v.isTextual())
        {
            switch (v.asText())
            {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                    return Double.NEGATIVE_INFINITY;
                default:
                    try
                    {
                        return Double.parseDouble(v.asText());
                    }
                    catch (final NumberFormatException ex)
                    {
                        return Double.NaN;
                    }
            }
        }
        return Double.NaN;
    }
}
