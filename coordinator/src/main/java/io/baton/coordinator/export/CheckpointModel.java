package io.baton.coordinator.export;

import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.common.store.HadoopConf;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.TrainCheckpoint;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.run.ReplicaState;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A trained model read back from a {@code baton train} checkpoint ({@code .../checkpoints/ckpt-<step>}): the
 * checkpoint's configuration part rebuilds the graph (input shape and classes from the configured data's
 * validation split), and its {@code params} part (parameters and BN running statistics) is loaded into it after
 * every part's checksum is verified.
 *
 * @param graph  the model, parameters loaded (SyncBatchNorm layers unbound).
 * @param input  its input type.
 * @param config the checkpoint's configuration.
 * @param step   steps completed when the checkpoint was taken.
 * @param classes names of the model's outputs (its configured data's classes), empty for generated data.
 */
public record CheckpointModel(ComputationGraph graph, InputType.InputTypeConvolutional input, BatonConfig config,
    long step, List<String> classes)
{
    private static final Pattern CHECKPOINT_DIR = Pattern.compile("ckpt-(\\d+)");

    /** Whether a location names a checkpoint directory ({@code ckpt-<step>}). */
    public static boolean isCheckpoint(final String location)
    {
        return CHECKPOINT_DIR.matcher(new Path(new RunDirectory(location).uri()).getName()).matches();
    }

    /**
     * A run's newest checkpoint whose every part verifies.
     *
     * @param location   where it is, as {@link #load} takes it.
     * @param configText the configuration it was trained with.
     */
    public record Newest(String location, String configText)
    {
    }

    /** The newest checkpoint of a run directory whose every part verifies, or null when the run has none. */
    public static Newest newestValid(final String runDir)
    {
        final RunDirectory run = new RunDirectory(runDir);
        try (CheckpointStore store = CheckpointStore.openReadOnly(run.path(RunDirectory.CHECKPOINTS).toString(),
            HadoopConf.fresh()))
        {
            final Checkpoint newest = store.latestValid().found().orElse(null);
            // Verified just now: only the small configuration part is read again.
            return newest == null ? null : new Newest(newest.path().toString(), configOf(newest));
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot list the checkpoints of " + runDir + ": " + ex.getMessage(), ex);
        }
    }

    /** The configuration a checkpoint was trained with (its configuration part), after verifying the checkpoint. */
    public static String configText(final String location)
    {
        return read(location, CheckpointModel::configOf);
    }

    /** Loads the model of checkpoint {@code location} (local path or Hadoop FS URI of a ckpt-<step> directory). */
    public static CheckpointModel load(final String location)
    {
        return read(location, checkpoint ->
        {
            final BatonConfig config = new ConfigLoader(ConfigDef.discover()).loadText(configOf(checkpoint));
            final int[] chw;
            final int classes;
            final List<String> names;
            try (BatchSource val = DataSources.open(config, DataSources.VAL))
            {
                chw = val.shape();
                classes = val.numClasses();
                names = val.classNames();
            }
            final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {chw[1], chw[2], chw[0]},
                classes);
            new ReplicaState(graph, null).restore(checkpoint);
            return new CheckpointModel(graph,
                (InputType.InputTypeConvolutional)InputType.convolutional(chw[1], chw[2], chw[0]), config,
                checkpoint.step(), names);
        });
    }

    private static String configOf(final Checkpoint checkpoint) throws IOException
    {
        return new String(checkpoint.readPart(TrainCheckpoint.CONFIG_PART), StandardCharsets.UTF_8);
    }

    /** What is read from a verified checkpoint. */
    private interface Reader<T>
    {
        T read(Checkpoint checkpoint) throws IOException;
    }

    /**
     * Opens and verifies checkpoint {@code location}, then reads it.
     *
     * @throws IllegalArgumentException when the location is no checkpoint directory, or it cannot be read or verified.
     */
    private static <T> T read(final String location, final Reader<T> reader)
    {
        final Path path = new Path(new RunDirectory(location).uri());
        final Matcher m = CHECKPOINT_DIR.matcher(path.getName());
        if (!m.matches())
        {
            throw new IllegalArgumentException("checkpoint " + location + " is not a checkpoint directory "
                + "(.../checkpoints/ckpt-<step>)");
        }
        try (CheckpointStore store = CheckpointStore.openReadOnly(path.getParent().toString(), HadoopConf.fresh()))
        {
            final Checkpoint checkpoint = store.open(Long.parseLong(m.group(1)));
            checkpoint.verify();
            return reader.read(checkpoint);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("checkpoint " + location + " cannot be read: " + ex.getMessage(), ex);
        }
    }
}
