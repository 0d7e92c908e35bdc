package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigKey;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.syncbn.BnGroups;

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
        final Integer oldGroups = syncBnGroups(old);
        final Integer newGroups = syncBnGroups(now);
        if (oldGroups != null && newGroups != null && !oldGroups.equals(newGroups))
        {
            // Each group normalises over 1/groups of the global batch: its size in replicas alone does not matter.
            out.add(new Difference("SyncBatchNorm groups (" + TrainerKeys.TRAIN_REPLICAS.name() + " / "
                + TrainerKeys.SYNCBN_GROUP_SIZE.name() + ")", describeGroups(old, oldGroups),
                describeGroups(now, newGroups)));
        }
        return out;
    }

    /** N / k SyncBatchNorm groups of a (validated) configuration, or null without SyncBN. */
    private static Integer syncBnGroups(final BatonConfig config)
    {
        return config.get(TrainerKeys.MODEL_SYNCBN) ? BnGroups.groupCount(config.get(TrainerKeys.TRAIN_REPLICAS),
            config.get(TrainerKeys.SYNCBN_GROUP_SIZE)) : null;
    }

    private static String describeGroups(final BatonConfig config, final int groups)
    {
        return groups + " (" + config.get(TrainerKeys.TRAIN_REPLICAS) + " / "
            + config.get(TrainerKeys.SYNCBN_GROUP_SIZE) + ")";
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
