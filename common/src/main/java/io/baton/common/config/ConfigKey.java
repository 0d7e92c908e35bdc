package io.baton.common.config;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * One declared configuration key: its dotted name, its type, and the rule its value must satisfy. The default
 * and the one-line doc live next to it in the module's {@code baton-reference.conf}; {@link ConfigDef} checks
 * that every declared key has both.
 *
 * @param <T> the Java type of the value.
 */
public final class ConfigKey<T>
{
    private final String name;
    private final ConfigType<T> type;
    private final Predicate<T> rule;
    private final String allowed;
    private final boolean optional;
    private final boolean trajectory;

    private ConfigKey(
        final String name,
        final ConfigType<T> type,
        final Predicate<T> rule,
        final String allowed,
        final boolean optional,
        final boolean trajectory)
    {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.rule = rule;
        this.allowed = allowed;
        this.optional = optional;
        this.trajectory = trajectory;
    }

    public static <T> ConfigKey<T> of(final String name, final ConfigType<T> type)
    {
        return new ConfigKey<>(name, type, v -> true, null, false, false);
    }

    /** Adds a rule; {@code allowed} says in words what passes, e.g. {@code "> 0"}. */
    public ConfigKey<T> check(final Predicate<T> newRule, final String newAllowed)
    {
        final Predicate<T> combined = rule.and(newRule);
        final String text = allowed == null ? newAllowed : allowed + " and " + newAllowed;
        return new ConfigKey<>(name, type, combined, text, optional, trajectory);
    }

    /** The key may be left null (unset) in the reference and the job file. */
    public ConfigKey<T> optional()
    {
        return new ConfigKey<>(name, type, rule, allowed, true, trajectory);
    }

    /**
     * The key changes the training trajectory (architecture, seed, global batch, data): resuming a checkpoint
     * under a different value is refused unless forced.
     */
    public ConfigKey<T> trajectory()
    {
        return new ConfigKey<>(name, type, rule, allowed, optional, true);
    }

    public String name()
    {
        return name;
    }

    public ConfigType<T> type()
    {
        return type;
    }

    public boolean isOptional()
    {
        return optional;
    }

    public boolean isTrajectory()
    {
        return trajectory;
    }

    /** What values pass, in words; the type name when there is no extra rule. */
    public String allowed()
    {
        return allowed == null ? type.name() : type.name() + ", " + allowed;
    }

    boolean accepts(final T value)
    {
        return rule.test(value);
    }

    @Override
    public String toString()
    {
        return name;
    }

    // Common rules, named so messages read well.

    public static Predicate<Integer> positiveInt()
    {
        return v -> v > 0;
    }

    public static Predicate<Integer> nonNegativeInt()
    {
        return v -> v >= 0;
    }

    public static Predicate<Long> positiveLong()
    {
        return v -> v > 0;
    }

    public static Predicate<Double> positiveDouble()
    {
        return v -> v > 0 && Double.isFinite(v);
    }

    public static Predicate<Double> nonNegativeDouble()
    {
        return v -> v >= 0 && Double.isFinite(v);
    }

    public static Predicate<Double> inRange(final double lowInclusive, final double highInclusive)
    {
        return v -> v >= lowInclusive && v <= highInclusive;
    }
}
