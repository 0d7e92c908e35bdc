package io.baton.coordinator.train;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.baton.common.store.HadoopConf;
import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.checkpoint.CheckpointSettings;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.LatestValid;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.BatonConfigException;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver's choice of the checkpoint a stage starts from. At the start of a run it follows {@code --resume}: the
 * newest checkpoint of the run directory whose every part verifies (corrupt newer ones are reported and skipped),
 * none, or a given one; a checkpoint whose configuration differs in trajectory keys is refused unless forced. After
 * a failure it takes the newest valid checkpoint of the run directory (written by this run or the one it resumed).
 *
 * <p>Only the driver reads a whole checkpoint to verify it; the stage's rank 0 then reads it again (verified while
 * streamed) and broadcasts the state to the other replicas.
 */
final class ResumeResolver
{
    private static final Pattern CHECKPOINT_DIR = Pattern.compile("ckpt-(\\d+)");

    private final BatonConfig userConfig;
    /** Keys the user did not set, whose values were derived ({@link BatonConfig#derived()}). */
    private final Set<String> unset;
    /** The configuration to train with: the user's, with the run's values of unset keys once a checkpoint is taken. */
    private BatonConfig config;
    private final RunDirectory run;
    private final PrintWriter out;
    private final RunEvents events;
    /** The configuration text of every checkpoint found, by path. */
    private final Map<String, String> configs = new LinkedHashMap<>();

    /**
     * A verified checkpoint to start from.
     *
     * @param dir      its checkpoint directory (the store's, holding {@code ckpt-<step>}).
     * @param path     the checkpoint itself.
     * @param position what its metadata says.
     */
    record Found(String dir, String path, TrainCheckpoint.Position position)
    {
    }

    ResumeResolver(final BatonConfig userConfig, final Set<String> unset, final RunDirectory run,
        final PrintWriter out, final RunEvents events)
    {
        this.userConfig = userConfig;
        this.unset = Set.copyOf(unset);
        this.config = userConfig;
        this.run = run;
        this.out = out;
        this.events = events;
    }

    /** The checkpoint the run starts from, or null to start from the initial weights. */
    Found initial(final ResumeRequest request)
    {
        switch (request.mode())
        {
            case NEVER:
                setAsideExisting();
                return null;
            case PATH:
                return explicit(request);
            case AUTO:
            default:
                final Found found = latest();
                if (found != null)
                {
                    checkConfig(found, request.force());
                }
                return found;
        }
    }

    /** The newest valid checkpoint of the run directory, or null; corrupt newer ones are reported. */
    Found latest()
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(checkpointDir(), HadoopConf.fresh()))
        {
            final LatestValid latest = store.latestValid();
            for (final LatestValid.Rejected rejected : latest.rejected())
            {
                out.printf("checkpoint %s is corrupt and is skipped: %s%n", rejected.path(), rejected.reason());
                final Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("step", rejected.step());
                fields.put("path", rejected.path().toString());
                fields.put("reason", rejected.reason());
                events.record("corrupt-checkpoint-skipped", fields, true);
            }
            out.flush();
            final Checkpoint checkpoint = latest.checkpoint();
            return checkpoint == null ? null : found(checkpoint);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read the checkpoints of " + run.uri() + ": " + ex.getMessage(), ex);
        }
    }

    String checkpointDir()
    {
        return CheckpointSettings.from(userConfig, run.uri().toString()).dir();
    }

    private Found explicit(final ResumeRequest request)
    {
        final Path path = new Path(request.path());
        final Matcher m = CHECKPOINT_DIR.matcher(path.getName());
        if (!m.matches())
        {
            throw new IllegalArgumentException("--resume " + request.path() + " is not a checkpoint directory "
                + "(ckpt-<step>); use auto, never or a .../checkpoints/ckpt-<step> path");
        }
        try (CheckpointStore store = CheckpointStore.openReadOnly(path.getParent().toString(), HadoopConf.fresh()))
        {
            final Checkpoint checkpoint = store.open(Long.parseLong(m.group(1)));
            checkpoint.verify();
            final Found found = found(checkpoint);
            checkConfig(found, request.force());
            return found;
        }
        catch (final FileNotFoundException ex)
        {
            // a path the user typed that names no checkpoint: bad input, not a failure of the run
            throw new IllegalArgumentException("--resume " + request.path() + ": " + ex.getMessage(), ex);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot resume " + request.path() + ": " + ex.getMessage(), ex);
        }
    }

    private Found found(final Checkpoint checkpoint) throws IOException
    {
        final Found found = new Found(checkpoint.path().getParent().toString(), checkpoint.path().toString(),
            TrainCheckpoint.Position.of(checkpoint));
        configs.put(found.path(), new String(checkpoint.readPart(TrainCheckpoint.CONFIG_PART),
            StandardCharsets.UTF_8));
        return found;
    }

    /**
     * The configuration to train with: the user's, except that keys the user did not set keep the values of the
     * checkpoint taken by {@link #initial} (see {@link #keepRunsValues}).
     */
    BatonConfig config()
    {
        return config;
    }

    /**
     * The user's configuration with the checkpoint's values of the keys the user did not set, where they differ from
     * what they derive to now: a run started before a default was derived (its checkpoints record decay epochs
     * [5, 8] for 20 epochs, or 224x224 for resnet20), or under other fractions, resumes on its own trajectory. A value
     * that would not be valid in the user's configuration (a decay epoch past a shortened run) is not kept; it is
     * then a difference like any other.
     *
     * @return the configuration, and one line per key kept (none when nothing was).
     */
    static Kept keepRunsValues(final BatonConfig old, final BatonConfig user,
        final Set<String> unset)
    {
        final List<String> kept = new ArrayList<>();
        BatonConfig config = user;
        for (final String key : new TreeSet<>(unset))
        {
            final Object was = old.values().get(key);
            final Object now = config.values().get(key);
            if (was == null || was.equals(now))
            {
                continue;
            }
            try
            {
                config = new ConfigLoader(config.def()).loadText(config.render(),
                    List.of(key + "=" + ConfigValueFactory.fromAnyRef(was).render(ConfigRenderOptions.concise())));
                kept.add(key + " = " + was + " as the run was started (not set; derived now it would be " + now + ")");
            }
            catch (final BatonConfigException ex)
            {
                // not valid with the user's other keys: reported as a difference
            }
        }
        return new Kept(config, kept);
    }

    /**
     * @param config the configuration to train with.
     * @param lines  one per key whose value was kept from the run, e.g.
     *               {@code data.image-size = 224 as the run was started (not set; derived now it would be 32)}.
     */
    record Kept(BatonConfig config, List<String> lines)
    {
    }

    private void checkConfig(final Found found, final boolean force)
    {
        final BatonConfig old = new ConfigLoader(ConfigDef.discover()).loadText(configs.get(found.path()));
        final Kept keeping = keepRunsValues(old, userConfig, unset);
        for (final String line : keeping.lines())
        {
            out.printf("resuming %s with %s%n", found.path(), line);
        }
        out.flush();
        final List<ConfigDiff.Difference> differences = ConfigDiff.trajectory(old, keeping.config());
        config = keeping.config();
        if (differences.isEmpty())
        {
            return;
        }
        if (!force)
        {
            throw new ResumeRefusedException(found.path(), differences);
        }
        out.printf("WARNING: resuming %s with --force although trajectory keys changed: %s%n", found.path(),
            differences);
        out.flush();
        final Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("checkpoint", found.path());
        fields.put("differences", differences.toString());
        events.record("forced-resume", fields, true);
    }

    /** What an earlier run left in the directory that a fresh one (--resume never) would mix with or overwrite. */
    private static final List<String> EARLIER_RUN = List.of(RunDirectory.CHECKPOINTS, RunDirectory.METRICS,
        RunDirectory.HEALTH, RunDirectory.SUMMARY, RunDirectory.MODEL, RunDirectory.REPORT, RunDirectory.CONFIG,
        StepSegments.directoryName(RunDirectory.METRICS), StepSegments.directoryName(RunDirectory.HEALTH));

    /**
     * With --resume never, an earlier run's checkpoints would mix into this run's recovery, and its metrics, summary
     * and model would be overwritten or, until this run ends, shown as this run's: move them all into
     * {@code before-<ms>/} of the run directory, loudly. The run events stay: they are the directory's history.
     */
    private void setAsideExisting()
    {
        final Path dir = new Path(checkpointDir());
        try
        {
            final FileSystem fs = run.fileSystem();
            final boolean checkpoints = fs.exists(dir) && fs.listStatus(dir).length > 0;
            if (!checkpoints && !run.hasStepLines(RunDirectory.METRICS))
            {
                return;
            }
            final Path aside = run.path("before-" + System.currentTimeMillis());
            fs.mkdirs(aside);
            final List<String> moved = new ArrayList<>();
            for (final String name : EARLIER_RUN)
            {
                final Path from = name.equals(RunDirectory.CHECKPOINTS) ? dir : run.path(name);
                if (fs.exists(from))
                {
                    if (!fs.rename(from, new Path(aside, from.getName())))
                    {
                        throw new IOException("rename of " + from + " into " + aside + " failed");
                    }
                    moved.add(from.getName());
                }
            }
            out.printf("--resume never: moved the earlier run's %s to %s%n", String.join(", ", moved), aside);
            out.flush();
            events.record("earlier-run-set-aside", Map.of("to", aside.toString(), "moved", moved), true);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot set aside the earlier run in " + run.uri() + ": " + ex.getMessage(),
                ex);
        }
    }
}
