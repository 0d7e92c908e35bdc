package io.baton.api;

import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A job's configuration for the library API: the same declared keys as {@code baton config --reference} lists, given
 * as HOCON text or a file and {@link #set(String, Object) key = value} overrides (later ones win), with typed
 * shortcuts for the keys every job sets. Validated as a whole by {@link #config()} (and by every {@link Baton}
 * call before anything starts): an unknown key, a bad value or keys that contradict each other fail with one line
 * naming the key and the value.
 *
 * <pre>{@code
 * Settings settings = Settings.defaults()
 *     .replicas(2).globalBatch(64).epochs(3)
 *     .data("hdfs:///datasets/flowers-prepared")
 *     .runDir("hdfs:///runs/flowers-2026-12-05")
 *     .set("optim.base-lr", 0.1);
 * }</pre>
 *
 * <p>Immutable and thread-safe: every method returns a new instance.
 */
public final class Settings
{
    private final String hocon;
    private final List<String> overrides;

    private Settings(final String hocon, final List<String> overrides)
    {
        this.hocon = hocon;
        this.overrides = List.copyOf(overrides);
    }

    /** The reference defaults. */
    public static Settings defaults()
    {
        return new Settings("", List.of());
    }

    /** Settings from HOCON text (keys not named keep their defaults). */
    public static Settings hocon(final String text)
    {
        return new Settings(text, List.of());
    }

    /** Settings from a HOCON file. */
    public static Settings file(final Path file)
    {
        try
        {
            return hocon(Files.readString(file));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read the configuration file " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Sets one key; the value is a string, number, boolean, list or null. Checked against the key's declaration by
     * {@link #config()}.
     */
    public Settings set(final String key, final Object value)
    {
        final String rendered;
        if (value == null)
        {
            rendered = "null";
        }
        else if (value instanceof CharSequence text)
        {
            rendered = ConfigUtil.quoteString(text.toString());
        }
        else if (value instanceof Collection<?> || value instanceof Map<?, ?> || value instanceof Number
            || value instanceof Boolean)
        {
            rendered = ConfigValueFactory.fromAnyRef(value).render();
        }
        else
        {
            throw new IllegalArgumentException(key + ": a value of type " + value.getClass().getName()
                + " cannot be a configuration value (use a string, number, boolean or list)");
        }
        final List<String> next = new ArrayList<>(overrides);
        next.add(key + "=" + rendered);
        return new Settings(hocon, next);
    }

    /** {@code train.replicas}: the number of replicas (the world size). */
    public Settings replicas(final int replicas)
    {
        return set("train.replicas", replicas);
    }

    /** {@code train.global-batch}: images per step over all replicas. */
    public Settings globalBatch(final int images)
    {
        return set("train.global-batch", images);
    }

    /** {@code train.epochs}. */
    public Settings epochs(final int epochs)
    {
        return set("train.epochs", epochs);
    }

    /** {@code data.path}: the prepared data (output of {@code baton prepare}), any Hadoop FS URI. */
    public Settings data(final String uri)
    {
        return set("data.path", uri);
    }

    /** {@code run.dir}: where checkpoints, metrics, events and the model go, any Hadoop FS URI. */
    public Settings runDir(final String uri)
    {
        return set("run.dir", uri);
    }

    /**
     * The validated configuration.
     *
     * @throws io.baton.common.config.BatonConfigException naming the key and value that are wrong.
     */
    public BatonConfig config()
    {
        return new ConfigLoader(ConfigDef.discover()).loadText(hocon, overrides);
    }

    /**
     * The validated configuration of these settings over {@code baseHocon} (e.g. a run's recorded configuration):
     * keys these settings give win.
     */
    BatonConfig configOver(final String baseHocon)
    {
        return new ConfigLoader(ConfigDef.discover()).loadText(baseHocon + "\n" + hocon, overrides);
    }

    @Override
    public String toString()
    {
        return "Settings" + overrides;
    }
}
