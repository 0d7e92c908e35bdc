package io.baton.common.checkpoint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The manifest of a checkpoint: metadata plus the part list with sizes and CRC32C checksums, as UTF-8
 * {@code key=value} lines, ending with a CRC32C of all preceding bytes so a damaged manifest is detected too:
 * <pre>
 * format=baton-checkpoint-1
 * meta.step=1200
 * meta.epoch=3
 * meta.world-size=2
 * meta.config-hash=...
 * meta.baton-version=0.1.0-SNAPSHOT
 * meta.wall-time-ms=1718000000000
 * extra.sampler.position=153600
 * part.0.name=params
 * part.0.size=241376928
 * part.0.crc32c=1c2d3e4f
 * manifest.crc32c=89abcdef
 * </pre>
 * Values escape backslash, newline and carriage return as {@code \\}, {@code \n}, {@code \r}.
 */
record Manifest(CheckpointMetadata metadata, List<PartInfo> parts)
{
    static final String FORMAT = "baton-checkpoint-1";
    private static final String CRC_KEY = "manifest.crc32c";

    Manifest
    {
        parts = List.copyOf(parts);
    }

    byte[] encode()
    {
        final StringBuilder text = new StringBuilder();
        line(text, "format", FORMAT);
        line(text, "meta.step", Long.toString(metadata.step()));
        line(text, "meta.epoch", Long.toString(metadata.epoch()));
        line(text, "meta.world-size", Integer.toString(metadata.worldSize()));
        line(text, "meta.config-hash", metadata.configHash());
        line(text, "meta.baton-version", metadata.batonVersion());
        line(text, "meta.wall-time-ms", Long.toString(metadata.wallTimeMs()));
        for (final Map.Entry<String, String> e : metadata.extra().entrySet())
        {
            line(text, "extra." + e.getKey(), e.getValue());
        }
        for (int i = 0; i < parts.size(); i++)
        {
            final PartInfo part = parts.get(i);
            line(text, "part." + i + ".name", part.name());
            line(text, "part." + i + ".size", Long.toString(part.sizeBytes()));
            line(text, "part." + i + ".crc32c", part.crc32cHex());
        }
        final byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
        final CRC32C crc = new CRC32C();
        crc.update(body);
        line(text, CRC_KEY, String.format("%08x", (int) crc.getValue()));
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses and checks a manifest; {@code where} names it in error messages. */
    static Manifest decode(final byte[] bytes, final String where) throws CorruptCheckpointException
    {
        final String text = new String(bytes, StandardCharsets.UTF_8);
        final int crcAt = text.lastIndexOf(CRC_KEY + "=");
        if (crcAt < 0 || (crcAt > 0 && text.charAt(crcAt - 1) != '\n') || !text.endsWith("\n"))
        {
            throw new CorruptCheckpointException(where + ": manifest is truncated (no " + CRC_KEY + " line at its end, "
                + bytes.length + " bytes)");
        }
        final CRC32C crc = new CRC32C();
        crc.update(text.substring(0, crcAt).getBytes(StandardCharsets.UTF_8));
        final String recorded = text.substring(crcAt + CRC_KEY.length() + 1, text.length() - 1);
        final String actual = String.format("%08x", (int) crc.getValue());
        if (!actual.equals(recorded))
        {
            throw new CorruptCheckpointException(where + ": manifest checksum mismatch (recorded crc32c=" + recorded
                + ", actual " + actual + ")");
        }
        final Map<String, String> values = new HashMap<>();
        for (final String line : text.substring(0, crcAt).split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq <= 0)
            {
                throw new CorruptCheckpointException(where + ": malformed manifest line '" + line + "'");
            }
            values.put(line.substring(0, eq), unescape(line.substring(eq + 1)));
        }
        return parse(values, where);
    }

    private static Manifest parse(final Map<String, String> values, final String where)
        throws CorruptCheckpointException
    {
        if (!FORMAT.equals(values.get("format")))
        {
            throw new CorruptCheckpointException(where + ": unknown manifest format '" + values.get("format")
                + "', expected " + FORMAT);
        }
        try
        {
            final Map<String, String> extra = new TreeMap<>();
            for (final Map.Entry<String, String> e : values.entrySet())
            {
                if (e.getKey().startsWith("extra."))
                {
                    extra.put(e.getKey().substring("extra.".length()), e.getValue());
                }
            }
            final CheckpointMetadata metadata = new CheckpointMetadata(
                Long.parseLong(required(values, "meta.step", where)),
                Long.parseLong(required(values, "meta.epoch", where)),
                Integer.parseInt(required(values, "meta.world-size", where)),
                required(values, "meta.config-hash", where),
                required(values, "meta.baton-version", where),
                Long.parseLong(required(values, "meta.wall-time-ms", where)),
                extra);
            final List<PartInfo> parts = new ArrayList<>();
            final Set<String> names = new HashSet<>();
            for (int i = 0; values.containsKey("part." + i + ".name"); i++)
            {
                final String name = values.get("part." + i + ".name");
                if (!CheckpointPart.isValidName(name) || !names.add(name))
                {
                    throw new CorruptCheckpointException(where + ": invalid or duplicate part name '" + name + "'");
                }
                parts.add(new PartInfo(name,
                    Long.parseLong(required(values, "part." + i + ".size", where)),
                    Integer.parseUnsignedInt(required(values, "part." + i + ".crc32c", where), 16)));
            }
            return new Manifest(metadata, parts);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CorruptCheckpointException(where + ": invalid manifest value: " + ex.getMessage(), ex);
        }
    }

    private static String required(final Map<String, String> values, final String key, final String where)
        throws CorruptCheckpointException
    {
        final String value = values.get(key);
        if (value == null)
        {
            throw new CorruptCheckpointException(where + ": manifest lacks '" + key + "'");
        }
        return value;
    }

    private static void line(final StringBuilder text, final String key, final String value)
    {
        text.append(key).append('=').append(escape(value)).append('\n');
    }

    private static String escape(final String value)
    {
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
    }

    private static String unescape(final String value)
    {
        final StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length())
            {
                final char next = value.charAt(++i);
                out.append(next == 'n' ? '\n' : next == 'r' ? '\r' : next);
            }
            else
            {
                out.append(c);
            }
        }
        return out.toString();
    }
}
