package io.baton.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * How a configuration value is read from HOCON, and how its type is named in error messages and in the
 * generated reference. Reading throws {@link com.typesafe.config.ConfigException} on a wrong type; the
 * loader turns that into a message naming the key and the value.
 *
 * @param <T> the Java type of the value.
 */
public abstract class ConfigType<T>
{
    public static final ConfigType<Integer> INT = simple("int", Config::getInt);
    public static final ConfigType<Long> LONG = simple("long", Config::getLong);
    public static final ConfigType<Double> DOUBLE = simple("double", Config::getDouble);
    public static final ConfigType<Boolean> BOOLEAN = simple("boolean", Config::getBoolean);
    public static final ConfigType<String> STRING = simple("string", Config::getString);
    /** A size in bytes; accepts HOCON sizes such as {@code 64m} or {@code 4 KiB}. */
    public static final ConfigType<Long> BYTES = simple("bytes", (c, p) -> c.getBytes(p));
    /** A duration; accepts HOCON durations such as {@code 30s} or {@code 500 ms}. */
    public static final ConfigType<Duration> DURATION = simple("duration", Config::getDuration);
    public static final ConfigType<List<Integer>> INT_LIST = simple("int list", Config::getIntList);
    public static final ConfigType<List<Double>> DOUBLE_LIST = simple("double list", Config::getDoubleList);
    public static final ConfigType<List<String>> STRING_LIST = simple("string list", Config::getStringList);

    private final String name;

    protected ConfigType(final String name)
    {
        this.name = name;
    }

    /** Name used in messages and in the README reference, e.g. {@code int} or {@code one of [a, b]}. */
    public String name()
    {
        return name;
    }

    /** Reads the value at {@code path}; the path is known to be present and not null. */
    public abstract T read(Config config, String path);

    /**
     * A string restricted to a fixed set of (lower-case) words. Matching ignores case; the returned value is the
     * canonical spelling.
     */
    public static ConfigType<String> oneOf(final String... allowed)
    {
        final List<String> words = List.of(allowed);
        return new ConfigType<>("one of " + words)
        {
            @Override
            public String read(final Config config, final String path)
            {
                final String raw = config.getString(path);
                for (final String word : words)
                {
                    if (word.equalsIgnoreCase(raw.trim()))
                    {
                        return word;
                    }
                }
                throw new IllegalArgumentException("expected one of " + words);
            }
        };
    }

    /** An enum read by its lower-case, dash-separated name (e.g. {@code STEP_DECAY} is {@code step-decay}). */
    public static <E extends Enum<E>> ConfigType<E> enumOf(final Class<E> type)
    {
        final List<String> names = new ArrayList<>();
        for (final E e : type.getEnumConstants())
        {
            names.add(configName(e));
        }
        return new ConfigType<>("one of " + names)
        {
            @Override
            public E read(final Config config, final String path)
            {
                final String raw = config.getString(path).trim();
                return Arrays.stream(type.getEnumConstants())
                    .filter(e -> configName(e).equalsIgnoreCase(raw) || e.name().equalsIgnoreCase(raw))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("expected one of " + names));
            }
        };
    }

    /** The configuration spelling of an enum constant: lower case with dashes. */
    public static String configName(final Enum<?> e)
    {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** True when the HOCON value at {@code path} is an explicit null (an optional key left unset). */
    static boolean isNull(final Config config, final String path)
    {
        return config.hasPathOrNull(path) && config.getIsNull(path)
            || config.hasPath(path) && config.getValue(path).valueType() == ConfigValueType.NULL;
    }

    private static <T> ConfigType<T> simple(final String name, final Reader<T> reader)
    {
        return new ConfigType<>(name)
        {
            @Override
            public T read(final Config config, final String path)
            {
                return reader.read(config, path);
            }
        };
    }

    /** Maps a value to another type after reading (e.g. string to an architecture name). */
    public <R> ConfigType<R> map(final String newName, final Function<T, R> mapper)
    {
        final ConfigType<T> self = this;
        return new ConfigType<>(newName)
        {
            @Override
            public R read(final Config config, final String path)
            {
                return mapper.apply(self.read(config, path));
            }
        };
    }

    @FunctionalInterface
    private interface Reader<T>
    {
        T read(Config config, String path);
    }
}
