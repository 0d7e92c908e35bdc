package io.baton.common.config;

import java.util.Map;

/**
 * Renders the declared configuration surface as a Markdown table (key, type and rule, default, doc). The README's
 * configuration reference is this text between two marker lines; a test keeps them equal.
 */
public final class ConfigReference
{
    /** Line before the generated table in README.md. */
    public static final String BEGIN_MARKER = "<!-- config-reference:begin (generated: baton config --reference) -->";
    /** Line after the generated table in README.md. */
    public static final String END_MARKER = "<!-- config-reference:end -->";

    private ConfigReference()
    {
    }

    public static String markdown(final ConfigDef def)
    {
        final StringBuilder out = new StringBuilder();
        out.append("| key | type | default | description |\n");
        out.append("|---|---|---|---|\n");
        for (final Map.Entry<String, ConfigKey<?>> e : def.keys().entrySet())
        {
            final String key = e.getKey();
            out.append("| `").append(key).append("` | ")
                .append(escape(e.getValue().allowed())).append(" | `")
                .append(escape(def.defaultText(key))).append("` | ")
                .append(escape(def.doc(key))).append(" |\n");
        }
        return out.toString();
    }

    private static String escape(final String text)
    {
        return text.replace("|", "\\|");
    }
}
