package io.baton.api.dl4j;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.api.Baton;
import io.baton.api.Model;
import io.baton.api.Settings;
import io.baton.api.TrainResult;
import io.baton.common.store.HadoopConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.deeplearning4j.core.storage.StatsStorageRouter;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.api.TrainingResult;
import org.deeplearning4j.spark.api.TrainingWorker;
import org.deeplearning4j.spark.api.stats.SparkTrainingStats;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Baton's exact synchronous training behind DL4J Spark's {@link TrainingMaster}: change the training master of a
 * {@link SparkComputationGraph} or {@link SparkDl4jMultiLayer} and its {@code fit} runs Baton (replicas in one barrier
 * stage, gradients and SyncBatchNorm statistics all-reduced over Aeron, the large-batch recipe, checkpoints and exact
 * resume) through the library API, {@link Baton#train}.
 *
 * <pre>{@code
 * TrainingMaster tm = new BatonTrainingMaster.Builder(32)   // examples per replica and step
 *     .replicas(4).epochs(10)
 *     .learningRate(0.1).baseBatch(256).warmupEpochs(5)     // linear scaling from the base batch, warmup
 *     .runDirectory("hdfs:///runs/flowers")                 // staged data, checkpoints, metrics, model
 *     .set("optim.weight-decay", 5e-5)                       // any other Baton key
 *     .build();
 * SparkComputationGraph net = new SparkComputationGraph(sc, graph, tm);
 * net.fit(trainData);                                        // JavaRDD<DataSet>
 * Evaluation eval = net.evaluate(testData);
 * sc.stop();   // needed for the JVM to exit: Spark's barrier timer thread is not a daemon
 * }</pre>
 *
 * <p>Each {@code fit} call is one Baton run of {@link Builder#epochs} epochs (its learning-rate schedule spans that
 * call) from the network's current parameters, in {@code <runDirectory>/fit-<n>} for the n-th call on this master.
 * The RDD is staged once into Baton's indexed form ({@code <runDirectory>/fit-<n>-data}, float tensors numbered by
 * class, then partition and position), so the global batch order is a function of (seed, epoch, sample) and the same
 * program run again resumes the same run exactly (a changed RDD is refused like any change of data). A later fit on
 * the same RDD (same RDD id in the same Spark application, same partitions) trains on the data the first one staged
 * instead of writing it again ({@link #stagedDataOfFit} says which): exact under Spark's own assumption that an RDD
 * is deterministic, as for recomputing a lost partition; give {@code fit} a new RDD for data that changed. Afterwards
 * the network the wrapper holds has Baton's trained parameters (its configuration and DL4J updater state are left as
 * they were) and {@code getScore()} is the last step's training loss; DL4J's {@code evaluate} works on it as usual.
 * Baton's optimiser ({@code optim.*}) replaces the network's DL4J updater and regularisation, as in {@link Baton}.
 * Baton's end-of-run evaluation is off ({@code run.final-evaluation = false} unless set; see {@link #lastResult}), and
 * the embedded Aeron driver of a JVM that ran replicas stays up a minute for the next fit, with the replicas' IPC
 * links open for the next fit's replicas there ({@code collective.driver-linger = 60s} unless set).
 * Each fit prints one line of where its wall time went (staging, the Baton run, parameters and listeners).
 *
 * <p>DL4J {@link TrainingListener}s given to {@link #setListeners(Collection)} see every Baton step on the driver
 * ({@code iterationDone} with that step's loss as the network's score, epoch start and end) while the fit's run
 * trains, within half a second of rank 0 logging the step. Not built: DL4J worker instances and training hooks (Baton's replicas run Baton's loop, not DL4J's workers),
 * a {@link StatsStorageRouter}, DL4J's {@link SparkTrainingStats} (each refused in one line; Baton's metrics are in
 * the run directory) and MultiDataSets of several inputs or outputs. Paths of exported DataSets ({@code fitPaths},
 * {@code fit(String)}) are loaded by DL4J's loader and trained as the same RDD of DataSets (a new RDD each call, so
 * staged each time, as is an RDD of MultiDataSets).
 *
 * <p>Threading: one {@code fit} at a time per master, as DL4J's masters; a call blocks until its run ends.
 */
public final class BatonTrainingMaster implements TrainingMaster<TrainingResult, TrainingWorker<TrainingResult>>
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String runDirectory;
    private final int replicas;
    private final int batchPerReplica;
    private final Map<String, Object> keys;
    /** The fits of this master: staging, runs, results. */
    private final MasterFits fits;
    private List<TrainingListener> listeners = List.of();

    private BatonTrainingMaster(final Builder builder)
    {
        this.runDirectory = builder.runDirectory;
        this.replicas = builder.replicas;
        this.batchPerReplica = builder.batchPerReplica;
        this.keys = Map.copyOf(builder.keys);
        this.fits = new MasterFits(runDirectory, replicas, batchPerReplica, keys, builder.progress);
    }

    /** The Baton settings of the n-th fit on staged data (what {@link Baton#train} is given). */
    Settings settings(final int fit, final DataSetStaging.Staged data)
    {
        return fits.settings(fit, data);
    }

    /**
     * The result of the last {@code fit}, or null before the first: the trained model, its run directory, the steps
     * ({@code steps}, {@code stepsThisCall}), the last step's training loss and the parameter checksum. Its
     * {@code val*} values are NaN and {@code valSamples} 0 unless {@code run.final-evaluation = true} was set: a
     * DataSet RDD has no held-out part, so that evaluation would only score the staged training examples again, and
     * it costs about as long as the fit's steps (use DL4J's {@code evaluate} on held-out data instead).
     */
    public TrainResult lastResult()
    {
        return fits.lastResult();
    }

    /** The run directory of the n-th fit on this master, 1-based. */
    public String runDirectoryOfFit(final int fit)
    {
        return fits.runDirectoryOfFit(fit);
    }

    /**
     * The staged data the n-th fit on this master trained on, 1-based: a prepared data set Baton's CLI can train on
     * too. That is {@code <runDirectory>/fit-<n>-data}, or, when the fit was given an RDD an earlier fit had staged,
     * that fit's data.
     *
     * @throws IllegalArgumentException naming the number when that fit has not trained on this master.
     */
    public String stagedDataOfFit(final int fit)
    {
        return fits.stagedDataOfFit(fit);
    }


    @Override
    public void executeTraining(final SparkComputationGraph graph, final JavaRDD<DataSet> trainingData)
    {
        final ComputationGraph network = graph.getNetwork();
        final TrainResult result = fits.fit(graph.getSparkContext(), network, network::setScore,
            network.paramTable(), Model.of(network), trainingData, listeners);
        graph.setScore(result.lastLoss());
    }

    @Override
    public void executeTraining(final SparkDl4jMultiLayer network, final JavaRDD<DataSet> trainingData)
    {
        final MultiLayerNetwork net = network.getNetwork();
        final TrainResult result = fits.fit(network.getSparkContext(), net, net::setScore, net.paramTable(),
            Model.of(net), trainingData, listeners);
        network.setScore(result.lastLoss());
    }

    @Override
    public void executeTrainingMDS(final SparkComputationGraph graph, final JavaRDD<MultiDataSet> trainingData)
    {
        executeTraining(graph, trainingData.map(BatonTrainingMaster::single));
    }

    /** A MultiDataSet of one input and one output as the DataSet it is; others refused in one line. */
    static DataSet single(final MultiDataSet mds)
    {
        if (mds.numFeatureArrays() != 1 || mds.numLabelsArrays() != 1)
        {
            throw new IllegalArgumentException("a MultiDataSet with " + mds.numFeatureArrays() + " feature and "
                + mds.numLabelsArrays() + " label arrays: BatonTrainingMaster trains graphs of one input and one "
                + "output");
        }
        return new DataSet(mds.getFeatures(0), mds.getLabels(0), mds.getFeaturesMaskArray(0),
            mds.getLabelsMaskArray(0));
    }

    /**
     * DL4J's {@code fitPaths}/{@code fit(String directory)}: each path (one exported DataSet or MultiDataSet, e.g.
     * {@code DataSet.save}'s) is loaded on the executors by DL4J's loader, in the RDD's order, and the RDD of DataSets
     * is staged and trained as {@link #executeTraining(SparkComputationGraph, JavaRDD)} does, so the same files in the
     * same order train exactly as the same DataSets in an RDD.
     */
    @Override
    public void executeTrainingPaths(final SparkDl4jMultiLayer network, final SparkComputationGraph graph,
        final JavaRDD<String> trainingDataPaths, final DataSetLoader dsLoader, final MultiDataSetLoader mdsLoader)
    {
        Objects.requireNonNull(trainingDataPaths, "trainingDataPaths");
        final JavaRDD<DataSet> data;
        if (dsLoader != null)
        {
            data = trainingDataPaths.map(path -> dsLoader.load(source(path)));
        }
        else if (mdsLoader != null)
        {
            data = trainingDataPaths.map(path -> single(mdsLoader.load(source(path))));
        }
        else
        {
            throw new IllegalArgumentException("fitting from paths needs a DataSetLoader or a MultiDataSetLoader");
        }
        if (graph != null)
        {
            executeTraining(graph, data);
        }
        else
        {
            executeTraining(network, data);
        }
    }

    /** An exported file on any Hadoop file system, for DL4J's loaders. */
    private static org.nd4j.common.loader.Source source(final String path) throws java.io.IOException
    {
        final org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path);
        return new org.deeplearning4j.spark.data.loader.RemoteFileSource(path,
            file.getFileSystem(HadoopConf.fresh()));
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(final SparkDl4jMultiLayer network)
    {
        throw noWorkers();
    }

    @Override
    public TrainingWorker<TrainingResult> getWorkerInstance(final SparkComputationGraph graph)
    {
        throw noWorkers();
    }

    private static UnsupportedOperationException noWorkers()
    {
        return new UnsupportedOperationException("BatonTrainingMaster has no DL4J worker: its replicas run Baton's "
            + "synchronous loop in one barrier stage");
    }

    @Override
    public void addHook(final TrainingHook trainingHook)
    {
        throw new UnsupportedOperationException("BatonTrainingMaster runs no DL4J training hooks ("
            + trainingHook.getClass().getName() + "): Baton's replicas run Baton's loop; its metrics are in the run "
            + "directory");
    }

    @Override
    public void removeHook(final TrainingHook trainingHook)
    {
        // None is ever added.
    }

    /**
     * DL4J listeners shown each Baton step of every later {@code fit}, on the driver, while the fit's run trains: a
     * driver thread follows the run's {@code metrics.jsonl} and calls them within half a second of rank 0 logging a
     * step (on a store without append, whose step log is segments, after the run), in step order:
     * {@code onEpochStart}, {@code iterationDone(network, iteration, epoch)} with the driver's network whose
     * {@code score()} is that step's global training loss, {@code onEpochEnd}. Iterations and epochs are numbered from
     * 0 over all fits of this master; a step redone after a stage resumed from a checkpoint is shown once, when first
     * logged. During the run the network holds the parameters it had before the fit (Baton's replicas hold the
     * training ones), and steps shown after the run see the trained ones; the calls come from that thread, one at a
     * time, and a listener that throws ends them and fails the fit when its run has ended. {@code onForwardPass},
     * {@code onGradientCalculation} and {@code onBackwardPass} are never called (they happen inside the replicas).
     * Replaces the listeners given before; null or empty removes them.
     */
    @Override
    public void setListeners(final Collection<TrainingListener> listeners)
    {
        this.listeners = listeners == null ? List.of() : List.copyOf(listeners);
    }

    /** As {@link #setListeners(Collection)}; a stats storage router is refused in one line. */
    @Override
    public void setListeners(final StatsStorageRouter router, final Collection<TrainingListener> listeners)
    {
        if (router != null)
        {
            throw new UnsupportedOperationException("BatonTrainingMaster does not route DL4J training stats to a "
                + "StatsStorageRouter (" + router.getClass().getName() + "): Baton's step metrics are in each fit's "
                + "run directory (metrics.jsonl, baton report)");
        }
        setListeners(listeners);
    }

    /** False is accepted; true is refused in one line: Baton collects no DL4J {@link SparkTrainingStats}. */
    @Override
    public void setCollectTrainingStats(final boolean collectTrainingStats)
    {
        if (collectTrainingStats)
        {
            throw new UnsupportedOperationException("BatonTrainingMaster collects no DL4J SparkTrainingStats: "
                + "Baton's step timings (step_ms, data_wait_ms, comm_ms) are in each fit's run directory "
                + "(metrics.jsonl, baton report)");
        }
    }

    /** False: see {@link #setCollectTrainingStats}. */
    @Override
    public boolean getIsCollectTrainingStats()
    {
        return false;
    }

    /** Null: Baton's step timings are in the run directory's metrics.jsonl and its report. */
    @Override
    public SparkTrainingStats getTrainingStats()
    {
        return null;
    }

    /** Deletes the data this master staged (not the runs: their checkpoints and models stay). */
    @Override
    public boolean deleteTempFiles(final JavaSparkContext sc)
    {
        return fits.deleteStaged();
    }

    @Override
    public boolean deleteTempFiles(final SparkContext sc)
    {
        return deleteTempFiles(JavaSparkContext.fromSparkContext(sc));
    }

    @Override
    public String toJson()
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("type", getClass().getName());
        json.put("runDirectory", runDirectory);
        json.put("replicas", replicas);
        json.put("batchSizePerReplica", batchPerReplica);
        json.put("settings", keys);
        try
        {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json);
        }
        catch (final JsonProcessingException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public String toYaml()
    {
        final StringBuilder yaml = new StringBuilder("type: " + getClass().getName() + "\nrunDirectory: \""
            + runDirectory + "\"\nreplicas: " + replicas + "\nbatchSizePerReplica: " + batchPerReplica
            + "\nsettings:\n");
        keys.forEach((k, v) -> yaml.append("  ").append(k).append(": ").append(v).append('\n'));
        return yaml.toString();
    }

    @Override
    public String toString()
    {
        return "BatonTrainingMaster(" + replicas + " x " + batchPerReplica + ", " + runDirectory + ", " + keys + ")";
    }

    /**
     * Builds a {@link BatonTrainingMaster}, as DL4J's training masters are built: the examples each replica trains
     * on per step, then the rest. Every Baton key ({@code baton config --reference}) can be given with
     * {@link #set}; the keys the master derives itself ({@code data.path}, {@code data.image-size}, {@code run.dir},
     * {@code train.replicas}, {@code train.global-batch}) are refused there, naming the builder method to use.
     * {@link #build()} validates the whole configuration, so a bad key or value fails there in one line.
     *
     * <p>Not thread-safe.
     */
    public static final class Builder
    {
        private static final Map<String, String> DERIVED = Map.of(
            "data.path", "the RDD given to fit (staged into the run directory)",
            "data.image-size", "the RDD's example height and width",
            "run.dir", "runDirectory(...)",
            "train.replicas", "replicas(...)",
            "train.global-batch", "Builder(batchSizePerReplica) x replicas(...)");

        private final int batchPerReplica;
        private int replicas = 2;
        private String runDirectory;
        private final Map<String, Object> keys = new LinkedHashMap<>();
        private PrintWriter progress = new PrintWriter(System.out, true);

        /** @param batchSizePerReplica examples each replica trains on per step (the global batch is replicas x this). */
        public Builder(final int batchSizePerReplica)
        {
            if (batchSizePerReplica <= 0)
            {
                throw new IllegalArgumentException("batchSizePerReplica = " + batchSizePerReplica + ": must be > 0");
            }
            this.batchPerReplica = batchSizePerReplica;
        }

        /** {@code train.replicas}: the number of replicas, each one Spark task (default 2). */
        public Builder replicas(final int replicas)
        {
            if (replicas <= 0)
            {
                throw new IllegalArgumentException("replicas = " + replicas + ": must be > 0");
            }
            this.replicas = replicas;
            return this;
        }

        /** {@code train.epochs}: epochs each {@code fit} call trains (default 1, as one DL4J fit is one pass). */
        public Builder epochs(final int epochs)
        {
            return set("train.epochs", epochs);
        }

        /** {@code optim.base-lr}: the learning rate at {@link #baseBatch} examples per step (linear scaling). */
        public Builder learningRate(final double learningRate)
        {
            return set("optim.base-lr", learningRate);
        }

        /** {@code optim.base-batch}: the global batch at which {@link #learningRate} applies unscaled. */
        public Builder baseBatch(final int examples)
        {
            return set("optim.base-batch", examples);
        }

        /** {@code optim.warmup-epochs}: linear warmup from the start factor to the scaled rate. */
        public Builder warmupEpochs(final double epochs)
        {
            return set("optim.warmup-epochs", epochs);
        }

        /** {@code optim.momentum}. */
        public Builder momentum(final double momentum)
        {
            return set("optim.momentum", momentum);
        }

        /** {@code optim.weight-decay}: on convolution and dense weights only. */
        public Builder weightDecay(final double weightDecay)
        {
            return set("optim.weight-decay", weightDecay);
        }

        /** {@code train.seed}: the batch order and initialisation seed. */
        public Builder seed(final long seed)
        {
            return set("train.seed", seed);
        }

        /** {@code checkpoint.every}: checkpoint every this many steps (and at each epoch's end). */
        public Builder checkpointEvery(final int steps)
        {
            return set("checkpoint.every", steps);
        }

        /**
         * Where each fit stages its data and keeps its run (checkpoints, metrics, model): any Hadoop FS URI that
         * the driver and every executor reach (hdfs://, s3a://, or a shared file system). Required.
         */
        public Builder runDirectory(final String uri)
        {
            this.runDirectory = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /** Alias of {@link #runDirectory}: checkpoints live in the run directory. */
        public Builder checkpointDirectory(final String uri)
        {
            return runDirectory(uri);
        }

        /** Any other Baton key ({@code baton config --reference}); later calls win. */
        public Builder set(final String key, final Object value)
        {
            final String derivedFrom = DERIVED.get(Objects.requireNonNull(key, "key"));
            if (derivedFrom != null)
            {
                throw new IllegalArgumentException(key + " = " + value + ": BatonTrainingMaster sets " + key
                    + " from " + derivedFrom);
            }
            keys.put(key, value);
            return this;
        }

        /** Where the staging line and Baton's plan and progress lines go (standard output by default). */
        public Builder progressTo(final PrintWriter writer)
        {
            this.progress = Objects.requireNonNull(writer, "writer");
            return this;
        }

        /**
         * The master.
         *
         * @throws IllegalArgumentException in one line: no run directory, or a key or value Baton refuses.
         */
        public BatonTrainingMaster build()
        {
            if (runDirectory == null)
            {
                throw new IllegalArgumentException("runDirectory is not set: BatonTrainingMaster needs a directory "
                    + "the driver and every executor reach (hdfs://, s3a:// or a shared file system) for the staged "
                    + "data, checkpoints and the model");
            }
            if (!keys.containsKey("train.epochs"))
            {
                keys.put("train.epochs", 1);
            }
            if (!keys.containsKey("run.final-evaluation"))
            {
                // A DataSet RDD has no held-out part: the evaluation would score the staged training examples again
                // and cost about as long as the fit's steps. DL4J users evaluate held-out data with evaluate().
                keys.put("run.final-evaluation", false);
            }
            if (!keys.containsKey("collective.driver-linger"))
            {
                // Each fit is a Baton run: the next fit's replicas use this one's embedded Aeron driver and links.
                keys.put("collective.driver-linger", "60s");
            }
            final BatonTrainingMaster master = new BatonTrainingMaster(this);
            // Validated now, with a stand-in for what fit derives, so a bad key fails at build().
            master.settings(1, new DataSetStaging.Staged("file:///validation-only", new int[] {3, 32, 32}, 2, 1))
                .config();
            return master;
        }
    }
}
