package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigKey;
import io.baton.trainer.TrainerKeys;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** The trajectory keys ({@link ConfigKey#trajectory()}) whose values differ between two configurations. */
public final class ConfigDiff
{
    private ConfigDiff()
    {
    }

    /**
     * One differing key.
     *
     * @param key      the key's name.
     * @param oldValue value in the checkpoint's configuration ("unset" when absent).
     * @param newValue value in the current configuration.
     */
    public record Difference(String key, String oldValue, String newValue)
    {
        @Override
        public String toString()
        {
            return key + ": " + oldValue + " -> " + newValue;
        }
    }

    /** Differences over the trajectory keys of either configuration, sorted by key. */
    public static List<Difference> trajectory(final BatonConfig old, final BatonConfig now)
    {
        final Set<String> keys = new TreeSet<>();
        addTrajectoryKeys(old, keys);
        addTrajectoryKeys(now, keys);
        final List<Difference> out = new ArrayList<>();
        for (final String key : keys)
        {
            final Object a = old.values().get(key);
            final Object b = now.values().get(key);
            if (key.equals(TrainerKeys.DATA_IDENTITY.name()) && (isBlank(a) || isBlank(b)))
            {
                // Checkpoints from before Baton recorded it, and generated data, have none: nothing to compare.
                continue;
            }
            if (!Objects.equals(a, b))
            {
                out.add(new Difference(key, a == null ? "unset" : a.toString(), b == null ? "unset" : b.toString()));
            }
        }
        return out;
    }

    private static boolean isBlank(final Object value)
    {
        return value == null || value.toString().isEmpty();
    }

    private static void addTrajectoryKeys(final BatonConfig config, final Set<String> keys)
    {
        for (final String key : config.values().keySet())
        {
            final ConfigKey<?> declared = config.def().keys().get(key);
            if (declared != null && declared.isTrajectory())
            {
                keys.add(key);
            }
        }
    }
}
