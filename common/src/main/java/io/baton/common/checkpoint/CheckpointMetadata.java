package io.baton.common.checkpoint;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a checkpoint says about itself, stored in its manifest next to the part list. The trainer records
 * whatever else it needs to resume (sampler position, LR schedule position, seeds...) in {@link #extra()} or as
 * parts.
 *
 * @param step          global optimiser step the state was taken after; names the checkpoint.
 * @param epoch         epoch the step belongs to.
 * @param worldSize     number of replicas that produced the state.
 * @param configHash    trajectory hash of the job configuration ({@code BatonConfig.trajectoryHash()}).
 * @param batonVersion  version of Baton that wrote the checkpoint.
 * @param wallTimeMs    wall-clock time the state was taken, milliseconds since the Unix epoch.
 * @param extra         further key/value pairs; keys are 1-128 of {@code [A-Za-z0-9_.-]}, values any text.
 */
public record CheckpointMetadata(
    long step,
    long epoch,
    int worldSize,
    String configHash,
    String batonVersion,
    long wallTimeMs,
    Map<String, String> extra)
{
    static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.\\-]{1,128}");

    public CheckpointMetadata
    {
        if (step < 0)
        {
            throw new IllegalArgumentException("step must be >= 0, step=" + step);
        }
        if (epoch < 0)
        {
            throw new IllegalArgumentException("epoch must be >= 0, epoch=" + epoch);
        }
        if (worldSize <= 0)
        {
            throw new IllegalArgumentException("worldSize must be > 0, worldSize=" + worldSize);
        }
        Objects.requireNonNull(configHash, "configHash");
        Objects.requireNonNull(batonVersion, "batonVersion");
        final TreeMap<String, String> copy = new TreeMap<>();
        for (final Map.Entry<String, String> e : extra.entrySet())
        {
            if (!KEY.matcher(e.getKey()).matches())
            {
                throw new IllegalArgumentException(
                    "extra metadata key must be 1-128 of [A-Za-z0-9_.-], key=" + e.getKey());
            }
            copy.put(e.getKey(), Objects.requireNonNull(e.getValue(), e.getKey()));
        }
        extra = Collections.unmodifiableMap(copy);
    }

    /** Metadata stamped with the current wall-clock time and no extra entries. */
    public static CheckpointMetadata of(
        final long step, final long epoch, final int worldSize, final String configHash, final String batonVersion)
    {
        return new CheckpointMetadata(step, epoch, worldSize, configHash, batonVersion, System.currentTimeMillis(),
            Map.of());
    }

    /** A copy with one more extra entry. */
    public CheckpointMetadata with(final String key, final String value)
    {
        final TreeMap<String, String> more = new TreeMap<>(extra);
        more.put(key, value);
        return new CheckpointMetadata(step, epoch, worldSize, configHash, batonVersion, wallTimeMs, more);
    }
}
