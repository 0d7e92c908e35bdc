package io.baton.api.dl4j;

import io.baton.api.Baton;
import io.baton.api.Model;
import io.baton.api.Settings;
import io.baton.api.TrainResult;
import io.baton.common.store.HadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleConsumer;

/**
 * The fits of one {@link BatonTrainingMaster}: each {@code fit} stages its RDD (or finds it staged by an earlier
 * fit), runs Baton in {@code <runDirectory>/fit-<n>} while its steps are shown to the listeners
 * ({@link LiveStepListeners}), copies the trained parameters into the caller's network, numbering the listeners'
 * iterations and epochs on over the fits; and what this master
 * staged, for {@link #deleteStaged()}. {@link BatonTrainingMaster} is DL4J's side of it: the builder, the
 * {@code TrainingMaster} calls and what it refuses.
 *
 * <p>Threading: one fit at a time, as the master.
 */
final class MasterFits
{
    private final String runDirectory;
    private final int replicas;
    private final int batchPerReplica;
    private final Map<String, Object> keys;
    private final PrintWriter progress;
    /** Locations this master staged into, for {@link #deleteStaged}. */
    private final List<String> staged = new ArrayList<>();
    private final StagedRdds stagedRdds = new StagedRdds();
    /** The staged data each fit trained on, by fit number (1-based). */
    private final Map<Integer, String> dataOfFit = new HashMap<>();
    /** Steps and epochs shown to the listeners by earlier fits: the next fit's iteration and epoch numbers. */
    private int listenerIterations;
    private int listenerEpochs;
    private int fits;
    private TrainResult lastResult;

    MasterFits(final String runDirectory, final int replicas, final int batchPerReplica, final Map<String, Object> keys,
        final PrintWriter progress)
    {
        this.runDirectory = runDirectory;
        this.replicas = replicas;
        this.batchPerReplica = batchPerReplica;
        this.keys = keys;
        this.progress = progress;
    }

    /** The Baton settings of the n-th fit on staged data (what {@link Baton#train} is given). */
    Settings settings(final int fit, final DataSetStaging.Staged data)
    {
        Settings settings = Settings.defaults();
        for (final Map.Entry<String, Object> key : keys.entrySet())
        {
            settings = settings.set(key.getKey(), key.getValue());
        }
        return settings.replicas(replicas).globalBatch(replicas * batchPerReplica).data(data.uri())
            .set("data.image-size", data.chw()[1]).runDir(runDirectoryOfFit(fit));
    }

    /** The result of the last fit, or null before the first ({@link BatonTrainingMaster#lastResult()}). */
    TrainResult lastResult()
    {
        return lastResult;
    }

    /** The run directory of the n-th fit, 1-based. */
    String runDirectoryOfFit(final int fit)
    {
        return child("fit-" + fit);
    }

    /** {@link BatonTrainingMaster#stagedDataOfFit}. */
    String stagedDataOfFit(final int fit)
    {
        final String data = dataOfFit.get(fit);
        if (data == null)
        {
            throw new IllegalArgumentException("fit " + fit + " has not trained on this master (" + fits
                + " fit(s) so far, numbered from 1)");
        }
        return data;
    }

    private String child(final String name)
    {
        return runDirectory.endsWith("/") ? runDirectory + name : runDirectory + "/" + name;
    }

    /**
     * One fit: stage the RDD (or find it staged by an earlier fit), one Baton run with its steps shown to
     * {@code listeners} as they are logged, the trained parameters into {@code network}; prints one line of where the
     * fit's wall time went.
     */
    TrainResult fit(final JavaSparkContext sc, final org.deeplearning4j.nn.api.Model network,
        final DoubleConsumer score, final Map<String, INDArray> target, final Model model,
        final JavaRDD<DataSet> data, final List<TrainingListener> listeners)
    {
        Objects.requireNonNull(data, "trainingData");
        final int fit = ++fits;
        final long startNs = System.nanoTime();
        DataSetStaging.Staged stagedData = stagedRdds.find(data);
        if (stagedData == null)
        {
            final String location = child("fit-" + fit + "-data");
            stagedData = DataSetStaging.stage(data, location);
            staged.add(location);
            stagedRdds.add(data, stagedData);
            progress.println("staged " + stagedData.samples() + " examples of shape " + Arrays.toString(
                stagedData.chw()) + ", " + stagedData.classes() + " classes, into " + location);
        }
        else
        {
            progress.println("fit " + fit + ": RDD " + data.id() + " was staged by an earlier fit: training on "
                + stagedData.uri() + " (" + stagedData.samples() + " examples) without staging it again");
        }
        dataOfFit.put(fit, stagedData.uri());
        final long stagedNs = System.nanoTime();
        final StepListeners.Shower shower = new StepListeners.Shower(listeners, network, score, listenerIterations,
            listenerEpochs);
        final TrainResult result;
        final long trainedNs;
        try (LiveStepListeners live = listeners.isEmpty() ? null
            : new LiveStepListeners(runDirectoryOfFit(fit), shower))
        {
            result = Baton.on(sc).progressTo(progress).train(model, settings(fit, stagedData));
            trainedNs = System.nanoTime();
            if (live != null)
            {
                live.stopFollowing(); // no listener call may run while the parameters are replaced
            }
            TrainedParameters.copy(result.model(), target);
            lastResult = result;
            if (live != null)
            {
                live.showRest(result);
            }
        }
        finally
        {
            // Also after a failed run: the next fit numbers its steps on from those the listeners were shown.
            listenerIterations += shower.shown();
            listenerEpochs += shower.epochsReached();
        }
        score.accept(result.lastLoss());
        final long doneNs = System.nanoTime();
        progress.printf(Locale.ROOT, "fit %d: %.2f s = staging %.2f s + Baton run %.2f s + parameters and "
            + "listeners %.2f s%n", fit, (doneNs - startNs) / 1e9, (stagedNs - startNs) / 1e9,
            (trainedNs - stagedNs) / 1e9, (doneNs - trainedNs) / 1e9);
        progress.flush();
        return result;
    }

    /** Deletes the data this master staged (not the runs: their checkpoints and models stay); false if any stayed. */
    boolean deleteStaged()
    {
        boolean all = true;
        for (final String location : staged)
        {
            final Path path = new Path(URI.create(location));
            try (FileSystem fs = FileSystem.newInstance(path.toUri(), HadoopConf.fresh()))
            {
                all &= !fs.exists(path) || fs.delete(path, true);
            }
            catch (final IOException ex)
            {
                all = false;
            }
        }
        staged.clear();
        stagedRdds.clear();
        return all;
    }
}
