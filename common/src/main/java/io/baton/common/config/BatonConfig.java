package io.baton.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A validated job configuration: every declared key has a value of its type that passed its rule, and every
 * cross-key check passed. Immutable and safe to share between threads.
 */
public final class BatonConfig
{
    private final ConfigDef def;
    private final Config raw;
    private final Map<String, Object> values;
    private final Map<String, String> derived;

    BatonConfig(final ConfigDef def, final Config raw, final Map<String, Object> values,
        final Map<String, String> derived)
    {
        this.def = def;
        this.raw = raw;
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
        this.derived = Collections.unmodifiableMap(new TreeMap<>(derived));
    }

    /** The value of a declared key ({@code null} only for an unset optional key). */
    @SuppressWarnings("unchecked")
    public <T> T get(final ConfigKey<T> key)
    {
        if (!def.keys().containsKey(key.name()))
        {
            throw new IllegalArgumentException("configuration key not declared: " + key.name());
        }
        return (T) values.get(key.name());
    }

    public ConfigDef def()
    {
        return def;
    }

    /** The merged HOCON tree (reference defaults, job file, overrides, derived values). */
    public Config raw()
    {
        return raw;
    }

    /** Key to value, sorted by key. */
    public Map<String, Object> values()
    {
        return values;
    }

    /**
     * The keys that were not set and got their value from other keys when this configuration was loaded
     * ({@link ConfigDef.Derived}), each with what it was derived from, e.g. {@code derived from model.arch = resnet20}.
     * Empty for a configuration loaded from a rendered one, where every value is set.
     */
    public Map<String, String> derived()
    {
        return derived;
    }

    /** The effective configuration as HOCON text (sorted keys, no comments), e.g. for a run's metadata. */
    public String render()
    {
        return raw.root().render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false)
            .setJson(false).setFormatted(true));
    }

    /**
     * A SHA-256 over the keys marked {@link ConfigKey#trajectory()} and their values: equal hashes mean the same
     * training trajectory.
     */
    public String trajectoryHash()
    {
        final StringBuilder text = new StringBuilder();
        for (final Map.Entry<String, Object> e : values.entrySet())
        {
            if (def.keys().get(e.getKey()).isTrajectory())
            {
                text.append(e.getKey()).append('=').append(e.getValue()).append('\n');
            }
        }
        try
        {
            final MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
