package io.baton.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Builds a {@link BatonConfig} from the reference defaults, an optional job file and {@code key=value} overrides
 * (later wins), and validates it before anything starts. All problems are reported at once.
 */
public final class ConfigLoader
{
    private final ConfigDef def;

    public ConfigLoader(final ConfigDef def)
    {
        this.def = def;
    }

    /** Reference defaults only. */
    public BatonConfig defaults()
    {
        return load(null, List.of());
    }

    /**
     * Loads a configuration shipped as HOCON text (e.g. {@link BatonConfig#render()} sent to Spark executors), with
     * the same validation as a job file.
     */
    public BatonConfig loadText(final String hocon)
    {
        return loadText(hocon, List.of());
    }

    /** {@link #loadText(String)} with {@code key=value} overrides that win over the text. */
    public BatonConfig loadText(final String hocon, final List<String> overrides)
    {
        final List<String> errors = new ArrayList<>();
        final Config job;
        try
        {
            job = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription("shipped job"));
        }
        catch (final ConfigException ex)
        {
            throw new BatonConfigException(List.of("shipped configuration: " + ex.getMessage()));
        }
        checkKnown(job, "shipped configuration", errors);
        Config merged = overrides(overrides, errors);
        if (!errors.isEmpty())
        {
            throw new BatonConfigException(errors);
        }
        return validate(merged.withFallback(job).withFallback(def.reference()).resolve());
    }

    /**
     * @param jobFile   a HOCON job file, or null.
     * @param overrides {@code key=value} strings as given to {@code --set}; the value is HOCON.
     */
    public BatonConfig load(final Path jobFile, final List<String> overrides)
    {
        final List<String> errors = new ArrayList<>();
        Config merged = overrides(overrides, errors);
        if (jobFile != null)
        {
            final Config job = parseFile(jobFile, errors);
            if (job != null)
            {
                checkKnown(job, jobFile.toString(), errors);
                merged = merged.withFallback(job);
            }
        }
        if (!errors.isEmpty())
        {
            // Still report rule violations of the keys that parsed, all at once.
            try
            {
                validate(merged.withFallback(def.reference()).resolve());
            }
            catch (final BatonConfigException ex)
            {
                errors.addAll(ex.errors());
            }
            throw new BatonConfigException(errors);
        }
        return validate(merged.withFallback(def.reference()).resolve());
    }

    private BatonConfig validate(final Config merged)
    {
        final List<String> errors = new ArrayList<>();
        final Map<String, Object> values = new LinkedHashMap<>();
        final Set<String> derivable = new HashSet<>();
        def.derived().forEach(d -> derivable.add(d.key().name()));
        for (final ConfigKey<?> key : def.keys().values())
        {
            readKey(merged, key, derivable.contains(key.name()), values, errors);
        }
        if (errors.isEmpty())
        {
            Config resolved = merged;
            final Map<String, String> derived = new LinkedHashMap<>();
            for (final ConfigDef.Derived<?> d : def.derived())
            {
                if (values.get(d.key().name()) == null)
                {
                    resolved = derive(d, resolved, values, derived, errors);
                }
            }
            final BatonConfig config = new BatonConfig(def, resolved, values, derived);
            for (final ConfigDef.CrossCheck check : errors.isEmpty() ? def.crossChecks() : List.<ConfigDef.CrossCheck>of())
            {
                check.check(config, errors);
            }
            if (errors.isEmpty())
            {
                return config;
            }
        }
        throw new BatonConfigException(errors);
    }

    /**
     * Sets an unset key to its derived value (checked by the key's rule) in {@code values} and in the returned
     * configuration, and records in {@code derived} what it came from.
     */
    private <T> Config derive(final ConfigDef.Derived<T> d, final Config merged, final Map<String, Object> values,
        final Map<String, String> derived, final List<String> errors)
    {
        final String path = d.key().name();
        final T value = d.rule().apply(new BatonConfig(def, merged, values, Map.of()));
        if (value == null)
        {
            return merged;
        }
        final List<String> from = new ArrayList<>();
        for (final ConfigKey<?> source : d.from())
        {
            from.add(source.name() + " = " + values.get(source.name()));
        }
        final String origin = "derived from " + String.join(", ", from);
        if (!d.key().accepts(value))
        {
            errors.add(path + " = " + value + " (not set, " + origin + "): not allowed; allowed: " + d.key().allowed()
                + "; set " + path + " explicitly");
            return merged;
        }
        values.put(path, value);
        derived.put(path, origin);
        return merged.withValue(path, ConfigValueFactory.fromAnyRef(value, "derived by Baton (" + origin + ")"));
    }

    /** The {@code --set} overrides merged, later ones winning; problems are added to {@code errors}. */
    private Config overrides(final List<String> overrides, final List<String> errors)
    {
        Config merged = ConfigFactory.empty();
        for (int i = overrides.size() - 1; i >= 0; i--)
        {
            final Config override = parseOverride(overrides.get(i), errors);
            if (override != null)
            {
                checkKnown(override, "--set " + overrides.get(i), errors);
                merged = merged.withFallback(override);
            }
        }
        return merged;
    }

    private static <T> void readKey(final Config merged, final ConfigKey<T> key, final boolean derivable,
        final Map<String, Object> values, final List<String> errors)
    {
        final String path = key.name();
        if (ConfigType.isNull(merged, path))
        {
            if (!key.isOptional() && !derivable)
            {
                errors.add(path + " is not set; allowed: " + key.allowed());
            }
            values.put(path, null);
            return;
        }
        final T value;
        try
        {
            value = key.type().read(merged, path);
        }
        catch (final ConfigException | IllegalArgumentException ex)
        {
            errors.add(path + " = " + rendered(merged, path) + ": wrong type, expected " + key.type().name());
            return;
        }
        if (!key.accepts(value))
        {
            errors.add(path + " = " + rendered(merged, path) + ": not allowed; allowed: " + key.allowed());
            return;
        }
        values.put(path, value);
    }

    private static String rendered(final Config config, final String path)
    {
        try
        {
            final ConfigValue value = config.getValue(path);
            return value.render(com.typesafe.config.ConfigRenderOptions.concise());
        }
        catch (final ConfigException ex)
        {
            return "?";
        }
    }

    private Config parseOverride(final String override, final List<String> errors)
    {
        final int eq = override.indexOf('=');
        if (eq <= 0)
        {
            errors.add("--set " + override + ": expected key=value");
            return null;
        }
        final String key = override.substring(0, eq).trim();
        final String value = override.substring(eq + 1).trim();
        try
        {
            return ConfigFactory.parseString(key + " = " + quoteIfNeeded(value),
                ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription("--set " + key));
        }
        catch (final ConfigException ex)
        {
            errors.add("--set " + override + ": cannot parse value: " + ex.getMessage());
            return null;
        }
    }

    private static String quoteIfNeeded(final String value)
    {
        // Bare words with characters HOCON treats specially (e.g. a path hdfs://x:8020/y) are quoted.
        if (value.startsWith("[") || value.startsWith("{") || value.startsWith("\""))
        {
            return value;
        }
        return value.matches("[A-Za-z0-9_.\\-+ ]*") ? value : "\"" + value.replace("\"", "\\\"") + "\"";
    }

    private static Config parseFile(final Path file, final List<String> errors)
    {
        if (!Files.isRegularFile(file))
        {
            errors.add("config file " + file + " does not exist or is not a file");
            return null;
        }
        try
        {
            return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        }
        catch (final ConfigException ex)
        {
            errors.add("config file " + file + ": " + ex.getMessage());
            return null;
        }
    }

    private void checkKnown(final Config config, final String source, final List<String> errors)
    {
        for (final String path : leafPaths(config))
        {
            if (!def.keys().containsKey(path))
            {
                final String suggestion = closest(path, def.keys().keySet());
                errors.add("unknown key '" + path + "' in " + source
                    + (suggestion == null ? "" : " (did you mean '" + suggestion + "'?)"));
            }
        }
    }

    /** Every leaf path of a config, including explicit nulls. */
    static List<String> leafPaths(final Config config)
    {
        final TreeSet<String> paths = new TreeSet<>();
        collect(config.root(), "", paths);
        return new ArrayList<>(paths);
    }

    private static void collect(final com.typesafe.config.ConfigObject object, final String prefix,
        final Collection<String> out)
    {
        for (final Map.Entry<String, ConfigValue> e : object.entrySet())
        {
            final String path = prefix.isEmpty() ? quote(e.getKey()) : prefix + "." + quote(e.getKey());
            if (e.getValue() instanceof com.typesafe.config.ConfigObject child)
            {
                collect(child, path, out);
            }
            else
            {
                out.add(path);
            }
        }
    }

    private static String quote(final String segment)
    {
        return segment.matches("[A-Za-z0-9_\\-]+") ? segment : "\"" + segment + "\"";
    }

    /** The declared key nearest to a misspelt one, or null when nothing is close. */
    static String closest(final String unknown, final Collection<String> known)
    {
        final String leaf = leaf(unknown);
        // "optim.lr" -> "optim.base-lr", though "optim.lars" is fewer edits away
        final String named = onlyKeyOfSection(unknown, known, words -> words.contains(leaf));
        if (named != null)
        {
            return named;
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (final String candidate : known)
        {
            final int d = levenshtein(unknown, candidate);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }
        final int limit = Math.max(2, unknown.length() / 4);
        if (best != null && bestDistance <= limit)
        {
            return best;
        }
        for (final String candidate : known)
        {
            if (candidate.endsWith("." + leaf))
            {
                return candidate;
            }
        }
        // "train.batch-size" -> "train.global-batch": a shared word of 3+ letters
        final List<String> unknownWords = words(unknown);
        return onlyKeyOfSection(unknown, known,
            words -> words.stream().anyMatch(w -> w.length() > 2 && unknownWords.contains(w)));
    }

    /**
     * The one key of the unknown key's section whose last part's words (split at '-') satisfy {@code match}, or null
     * when none or several do.
     */
    private static String onlyKeyOfSection(final String unknown, final Collection<String> known,
        final Predicate<List<String>> match)
    {
        final String section = unknown.substring(0, unknown.lastIndexOf('.') + 1);
        String found = null;
        for (final String candidate : known)
        {
            if (candidate.startsWith(section) && candidate.indexOf('.', section.length()) < 0 &&
                match.test(words(candidate)))
            {
                if (found != null)
                {
                    return null;
                }
                found = candidate;
            }
        }
        return found;
    }

    private static List<String> words(final String key)
    {
        return List.of(leaf(key).split("-"));
    }

    private static String leaf(final String key)
    {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    static int levenshtein(final String a, final String b)
    {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++)
            {
                final int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
