package io.baton.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The declared configuration surface: the keys of one or more modules, their defaults and docs (read from every
 * {@code baton-reference.conf} on the class path), and cross-key checks. Immutable once built.
 *
 * <p>Each module declares its keys in one class (e.g. {@code CollectiveKeys} in common, {@code TrainerKeys} in
 * trainer) and contributes a {@code baton-reference.conf} with a default and a {@code #} doc line above each key.
 */
public final class ConfigDef
{
    /** Name of the reference resource every module contributes; all copies on the class path are merged. */
    public static final String REFERENCE_RESOURCE = "baton-reference.conf";
    /** What {@link #discover()} found (built at most a few times by racing first callers, all equal). */
    private static volatile ConfigDef discovered;

    private final Map<String, ConfigKey<?>> keys;
    private final List<CrossCheck> crossChecks;
    private final List<Derived<?>> derived;
    private final Config reference;

    private ConfigDef(final Map<String, ConfigKey<?>> keys, final List<CrossCheck> crossChecks,
        final List<Derived<?>> derived)
    {
        this.keys = Collections.unmodifiableMap(keys);
        this.crossChecks = List.copyOf(crossChecks);
        this.derived = List.copyOf(derived);
        this.reference = ConfigFactory.parseResourcesAnySyntax(
            ConfigDef.class.getClassLoader(),
            REFERENCE_RESOURCE,
            ConfigParseOptions.defaults().setAllowMissing(false));
        checkReference();
    }

    public static Builder builder()
    {
        return new Builder();
    }

    /**
     * The configuration surface of every Baton module on the class path. Scanned once per JVM (the modules and
     * reference files on a class path do not change; the scan took ~10 ms, and a fit of a DL4J training master
     * loaded configurations a dozen times on the driver and in each replica).
     */
    public static ConfigDef discover()
    {
        ConfigDef def = discovered;
        if (def == null)
        {
            def = scan();
            discovered = def;
        }
        return def;
    }

    private static ConfigDef scan()
    {
        final Builder builder = builder();
        final List<ConfigModule> modules = new ArrayList<>();
        java.util.ServiceLoader.load(ConfigModule.class, ConfigDef.class.getClassLoader()).forEach(modules::add);
        modules.sort(java.util.Comparator.comparing(m -> m.getClass().getName()));
        for (final ConfigModule module : modules)
        {
            builder.add(module.keys());
            module.crossChecks().forEach(builder::check);
            module.derived().forEach(builder::derive);
        }
        return builder.build();
    }

    public Map<String, ConfigKey<?>> keys()
    {
        return keys;
    }

    public List<CrossCheck> crossChecks()
    {
        return crossChecks;
    }

    /** How keys left unset get their value when a configuration is loaded, in the order they are applied. */
    public List<Derived<?>> derived()
    {
        return derived;
    }

    /** The merged reference configuration (defaults). */
    public Config reference()
    {
        return reference;
    }

    /** The doc line of a key, from the comment above it in the reference file. */
    public String doc(final String key)
    {
        final ConfigValue value = reference.hasPathOrNull(key) ? lookup(key) : null;
        if (value == null)
        {
            return "";
        }
        final List<String> comments = value.origin().comments();
        return String.join(" ", comments).trim();
    }

    /** The default value rendered as HOCON ({@code null} for an unset optional key). */
    public String defaultText(final String key)
    {
        if (reference.getIsNull(key))
        {
            return "null";
        }
        return reference.getValue(key).render(com.typesafe.config.ConfigRenderOptions.concise());
    }

    private ConfigValue lookup(final String key)
    {
        return reference.getIsNull(key) ? nullValue(key) : reference.getValue(key);
    }

    private ConfigValue nullValue(final String key)
    {
        // getValue() refuses nulls; walk to the parent object where the null entry (with its origin) lives.
        final int dot = key.lastIndexOf('.');
        final Config parent = dot < 0 ? reference : reference.getConfig(key.substring(0, dot));
        return parent.root().get(dot < 0 ? key : key.substring(dot + 1));
    }

    private void checkReference()
    {
        final List<String> problems = new ArrayList<>();
        for (final ConfigKey<?> key : keys.values())
        {
            if (!reference.hasPathOrNull(key.name()))
            {
                problems.add("declared key '" + key.name() + "' has no default in " + REFERENCE_RESOURCE);
            }
            else if (doc(key.name()).isEmpty())
            {
                problems.add("declared key '" + key.name() + "' has no doc comment in " + REFERENCE_RESOURCE);
            }
            else if (reference.getIsNull(key.name()) && !key.isOptional() && !isDerived(key))
            {
                problems.add("declared key '" + key.name() + "' is null in " + REFERENCE_RESOURCE
                    + " but not optional");
            }
        }
        for (final String path : ConfigLoader.leafPaths(reference))
        {
            if (!keys.containsKey(path))
            {
                problems.add("key '" + path + "' in " + REFERENCE_RESOURCE + " is not declared in any *Keys class");
            }
        }
        for (final Derived<?> d : derived)
        {
            if (!keys.containsKey(d.key().name()))
            {
                problems.add("derived key '" + d.key().name() + "' is not declared in any *Keys class");
            }
        }
        if (!problems.isEmpty())
        {
            throw new IllegalStateException("Baton's configuration declaration is inconsistent:\n  "
                + String.join("\n  ", problems));
        }
    }

    private boolean isDerived(final ConfigKey<?> key)
    {
        return derived.stream().anyMatch(d -> d.key().name().equals(key.name()));
    }

    /**
     * The value of a key left unset (null, its reference default): computed from other keys when a configuration is
     * loaded, after every key passed its own rule and before the cross checks, then checked by the key's own rule and
     * written into the configuration. So {@link BatonConfig#render()} and {@link BatonConfig#trajectoryHash()} carry
     * the value as if it had been set, and a rendered configuration loads again to the same values. A key that is set
     * (in the job file, by {@code --set} or in a rendered configuration) is never derived.
     *
     * @param key  the key, null in the reference.
     * @param from the keys the value is computed from (named when the configuration is printed).
     * @param rule the value, from a configuration whose every key is read and checked (this one still null; keys
     *             derived before it already set); null leaves the key unset.
     * @param <T>  the key's type: an Integer, Long, Double, Boolean, String or a List of them.
     */
    public record Derived<T>(ConfigKey<T> key, List<ConfigKey<?>> from, Function<BatonConfig, T> rule)
    {
        public Derived
        {
            from = List.copyOf(from);
        }
    }

    /**
     * A check across keys, run after every key passed its own rule; it adds one message per problem, each naming
     * the keys and values involved.
     */
    @FunctionalInterface
    public interface CrossCheck
    {
        void check(BatonConfig config, List<String> errors);
    }

    /** Collects keys (typically the {@code ALL} list of each module's keys class) and cross checks. */
    public static final class Builder
    {
        private final Map<String, ConfigKey<?>> keys = new TreeMap<>();
        private final List<CrossCheck> crossChecks = new ArrayList<>();
        private final List<Derived<?>> derived = new ArrayList<>();

        public Builder add(final List<? extends ConfigKey<?>> moduleKeys)
        {
            for (final ConfigKey<?> key : moduleKeys)
            {
                if (keys.put(key.name(), key) != null)
                {
                    throw new IllegalStateException("configuration key declared twice: " + key.name());
                }
            }
            return this;
        }

        public Builder check(final CrossCheck check)
        {
            crossChecks.add(check);
            return this;
        }

        public Builder derive(final Derived<?> derivation)
        {
            if (derived.stream().anyMatch(d -> d.key().name().equals(derivation.key().name())))
            {
                throw new IllegalStateException("configuration key derived twice: " + derivation.key().name());
            }
            derived.add(derivation);
            return this;
        }

        public ConfigDef build()
        {
            return new ConfigDef(new LinkedHashMap<>(keys), crossChecks, derived);
        }
    }
}
