package io.baton.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.common.config.BatonConfig;
import io.baton.common.store.LocalWrites;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.evaluate.EvaluateJob;
import io.baton.coordinator.export.ExportJob;
import io.baton.coordinator.prepare.FrameColumns;
import io.baton.coordinator.prepare.PrepareJob;
import io.baton.coordinator.prepare.PrepareOptions;
import io.baton.coordinator.report.RunReport;
import io.baton.coordinator.retrain.RetrainJob;
import io.baton.coordinator.retrain.RetrainOutcome;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.coordinator.train.ReplicaReport;
import io.baton.coordinator.train.ResumeRequest;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.TrainJob;
import io.baton.coordinator.train.TrainPlan;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.export.ModelExporter;
import io.baton.trainer.export.VerificationSample;
import io.baton.trainer.model.UserGraphs;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.run.Evaluator;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Baton as a library: synchronous data-parallel training of a DL4J model on the caller's Spark application, with
 * everything {@code baton train} does (run lock, plan, slot check, barrier stages, SyncBatchNorm, the exact step,
 * checkpoints, resume, relaunch of failed stages, elastic stages, non-finite rollback, metrics, health checks), and
 * evaluation, export and retraining on the same footing. The {@code baton} CLI is a client of this class.
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder()
 *     .config(Baton.sparkConf(new SparkConf()))      // Baton's JVM flags added to the executors' own
 *     .getOrCreate();
 * ComputationGraph myCnn = ...;                       // any DL4J graph with BatchNormalization and a softmax output
 * TrainResult result = Baton.on(spark).train(Model.of(myCnn), Settings.defaults()
 *     .replicas(2).globalBatch(64).epochs(3)
 *     .data("hdfs:///datasets/flowers-prepared")      // baton prepare's output
 *     .runDir("hdfs:///runs/flowers"));
 * ComputationGraph trained = result.model();          // plain DL4J, inference form
 * System.out.println(result.valTop1());
 * }</pre>
 *
 * <p>A {@code Baton} made {@link #on(SparkSession) on} a caller's context uses it as it is: it never creates, stops
 * or reconfigures it (the job description of the calling thread is restored after each stage), and refuses in one
 * line a context that cannot run a barrier stage (dynamic allocation on, too few task slots). {@link #ownContext()}
 * creates a context from the {@code cluster.*} keys for each job and stops it afterwards, as the CLI does.
 *
 * <p>Threading: one job at a time per instance; a call blocks until its job ends. Progress lines go to the writer
 * given to {@link #progressTo}, standard output by default.
 */
public final class Baton
{
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JavaSparkContext context;
    private final PrintWriter out;

    private Baton(final JavaSparkContext context, final PrintWriter out)
    {
        this.context = context;
        this.out = out;
    }

    /** Baton on the caller's session. */
    public static Baton on(final SparkSession spark)
    {
        return on(JavaSparkContext.fromSparkContext(Objects.requireNonNull(spark, "spark").sparkContext()));
    }

    /** Baton on the caller's context. */
    public static Baton on(final SparkContext sc)
    {
        return on(JavaSparkContext.fromSparkContext(Objects.requireNonNull(sc, "sc")));
    }

    /** Baton on the caller's context. */
    public static Baton on(final JavaSparkContext sc)
    {
        requireBarrierCapable(Objects.requireNonNull(sc, "sc"));
        return new Baton(sc, new PrintWriter(System.out, true));
    }

    /** Baton creating a Spark context from {@code cluster.*} for each job and stopping it afterwards (the CLI's way). */
    public static Baton ownContext()
    {
        return new Baton(null, new PrintWriter(System.out, true));
    }

    /** The same Baton, printing its progress lines to {@code writer}. */
    public Baton progressTo(final PrintWriter writer)
    {
        return new Baton(context, Objects.requireNonNull(writer, "writer"));
    }

    /**
     * A copy of {@code conf} with what Baton's executors need added to what is there: its JVM flags (Java 17 module
     * opens for Spark and Aeron, the native-backend properties of this JVM) appended to
     * {@code spark.executor.extraJavaOptions}, its malloc and OpenMP settings in the executors' environment where the caller set
     * none, and its Kryo registrator appended to {@code spark.kryo.registrator} (the serializer is left as it is). Give it to the session builder before the application starts.
     */
    public static SparkConf sparkConf(final SparkConf conf)
    {
        final SparkConf out = conf.clone();
        // Baton's task results travel through spark.serializer: registered, for Kryo with registration required.
        out.set("spark.kryo.registrator", SparkContexts.withRegistrator(out.get("spark.kryo.registrator", "")));
        final String own = SparkContexts.executorJavaOptions();
        final String theirs = out.get("spark.executor.extraJavaOptions", "").trim();
        out.set("spark.executor.extraJavaOptions", theirs.isEmpty() ? own : theirs + " " + own);
        for (final Map.Entry<String, String> env : SparkContexts.nativeEnvironment().entrySet())
        {
            if (!out.contains("spark.executorEnv." + env.getKey()))
            {
                out.setExecutorEnv(env.getKey(), System.getenv().getOrDefault(env.getKey(), env.getValue()));
            }
        }
        return out;
    }

    /** The JVM flags Baton's executors need ({@code conf/jvm.properties}), for a cluster's own launch scripts. */
    public static String executorJavaOptions()
    {
        return SparkContexts.executorJavaOptions();
    }

    /** Trains {@code model} as configured, resuming from the run directory's newest valid checkpoint. */
    public TrainResult train(final Model model, final Settings settings)
    {
        return train(model, settings, ResumeRequest.auto());
    }

    /**
     * Trains {@code model} as configured.
     *
     * @param resume where to start: {@link ResumeRequest#auto()} (the newest valid checkpoint of the run, if any),
     *               {@code ResumeRequest.parse("never", false)} or a checkpoint path.
     * @throws IllegalArgumentException naming the key, value, setting or layer that is wrong, before any stage
     *                                  starts.
     * @throws IllegalStateException    when training failed more than {@code recovery.max-restarts} times or was
     *                                  interrupted (the same call resumes it).
     */
    public TrainResult train(final Model model, final Settings settings, final ResumeRequest resume)
    {
        return train(withModel(model, settings), resume);
    }

    /**
     * Trains what a validated configuration names ({@code model.graph}, else the zoo's {@code model.arch}); what the
     * CLI calls with the configuration it loaded from its file and {@code --set}s.
     */
    public TrainResult train(final BatonConfig config, final ResumeRequest resume)
    {
        final TrainJob job = new TrainJob(config, out, resume, context);
        final TrainPlan plan = job.plan();
        out.println(plan.describe());
        printDerived(config, out);
        if (job.modelNote() != null)
        {
            out.println(job.modelNote());
        }
        if (job.memoryWarning() != null)
        {
            out.println(job.memoryWarning());
        }
        if (!job.dataIdentity().isEmpty())
        {
            out.println("data " + config.get(TrainerKeys.DATA_PATH) + ": " + job.dataIdentity());
        }
        out.flush();
        final List<ReplicaReport> reports = job.run(plan);
        return result(job.config(), reports);
    }

    /**
     * The configuration of a job on {@code model}: the settings, with {@code model.arch} for a zoo model or
     * {@code model.graph} for the caller's (an in-memory graph is written into the run directory, under a name that
     * is its digest, so that every executor reads the same bytes and a resume can tell whether it is the same model).
     */
    BatonConfig withModel(final Model model, final Settings settings)
    {
        BatonConfig config = settings.config();
        if (context != null && config.get(CoordinatorKeys.CLUSTER_MASTER) != null
            && !config.get(CoordinatorKeys.CLUSTER_MASTER).equals(context.master()))
        {
            throw new IllegalArgumentException(CoordinatorKeys.CLUSTER_MASTER.name() + " = " + config.get(
                CoordinatorKeys.CLUSTER_MASTER) + " but the given Spark context runs on " + context.master()
                + "; leave " + CoordinatorKeys.CLUSTER_MASTER.name() + " unset when Baton runs on your context");
        }
        Settings withModel = settings;
        if (context != null)
        {
            // Baton's own planning (memory check, local-mode choices) must see the master it really runs on.
            withModel = withModel.set(CoordinatorKeys.CLUSTER_MASTER.name(), context.master());
        }
        if (model.zooArch() != null)
        {
            withModel = withModel.set(TrainerKeys.MODEL_ARCH.name(), model.zooArch());
        }
        else if (model.zipUri() != null)
        {
            withModel = withModel.set(TrainerKeys.MODEL_GRAPH.name(), model.zipUri());
        }
        else
        {
            final RunDirectory run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));
            final String name = "initial-model-" + UserGraphs.identity(model.graph()).substring("sha256:".length(),
                "sha256:".length() + 16) + ".zip";
            final String location = run.path(name).toString();
            if (!run.exists(name))
            {
                run.mkdirs();
                writeInitialModel(run, name, model.graph(), location);
            }
            withModel = withModel.set(TrainerKeys.MODEL_GRAPH.name(), location);
        }
        return withModel.config();
    }

    /**
     * The caller's graph into the run directory as a DL4J zip (no updater state): on a local run directory straight
     * into the file ({@link LocalWrites}: no temporary copy, no chmod process), elsewhere as {@link UserGraphs#write}.
     */
    private static void writeInitialModel(final RunDirectory run, final String name, final ComputationGraph graph,
        final String location)
    {
        final org.apache.hadoop.fs.FileSystem fs = run.fileSystem();
        final org.apache.hadoop.fs.Path file = run.path(name);
        if (!LocalWrites.isLocal(fs, file))
        {
            UserGraphs.write(graph, location);
            return;
        }
        try (OutputStream out = LocalWrites.create(fs, file))
        {
            org.deeplearning4j.util.ModelSerializer.writeModel(graph, out, false);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write the model to " + location + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * {@code baton prepare} on this Baton's context: an ImageNet-layout image tree or ImageNet's tar files at
     * {@code input} (local path or Hadoop FS URI) into indexed shards and a manifest at {@code output}, with the
     * {@code prepare.*} keys of {@code settings}, the splits {@code train} and {@code val}.
     *
     * @param overwrite replace an existing output.
     */
    public Manifest prepare(final String input, final String output, final Settings settings, final boolean overwrite)
        throws IOException
    {
        final PrepareJob job = new PrepareJob(prepareOptions(uri(input), uri(output), List.of("train", "val"),
            settings, overwrite), out);
        return context == null ? job.run() : job.run(context);
    }

    /**
     * {@code baton prepare} of tables: one DataFrame per split (e.g. {@code train} and {@code val}: a DataFrame the
     * caller built, {@code spark.read().parquet(...)}, {@code .orc(...)}, Spark's {@code binaryFile} or
     * {@code image} source) with an image column (encoded bytes, a path on any Hadoop FS, or Spark's image struct)
     * and a label column, into the same shards, manifest and class list as an image tree; runs on the tables' own
     * session. Each table is read twice (sizes, then images), so it should give the same rows both times.
     *
     * @param tables    split name to table, in the order the splits are prepared.
     * @param columns   which columns hold the image, the label and the name ({@link FrameColumns#of}).
     * @param overwrite replace an existing output.
     * @throws IllegalArgumentException naming the column and its type when a column cannot be read as asked.
     */
    public Manifest prepare(final Map<String, Dataset<Row>> tables, final FrameColumns columns, final String output,
        final Settings settings, final boolean overwrite) throws IOException
    {
        if (tables.isEmpty())
        {
            throw new IllegalArgumentException("no tables to prepare");
        }
        final List<String> splits = List.copyOf(tables.keySet());
        final PrepareJob job = new PrepareJob(prepareOptions(URI.create("dataframe:" + String.join(",", splits)),
            uri(output), splits, settings, overwrite), out);
        return job.run(tables.values().iterator().next().sparkSession(), tables, columns);
    }

    private PrepareOptions prepareOptions(final URI input, final URI output, final List<String> splits,
        final Settings settings, final boolean overwrite)
    {
        final BatonConfig config = settings.config();
        final String master = context != null ? context.master()
            : config.get(CoordinatorKeys.CLUSTER_MASTER) == null ? "local[*]"
            : config.get(CoordinatorKeys.CLUSTER_MASTER);
        return new PrepareOptions(input, output, splits, null, null, master,
            config.get(CoordinatorKeys.PREPARE_SHARD_SIZE), config.get(CoordinatorKeys.PREPARE_RESIZE_SHORTER_SIDE),
            config.get(CoordinatorKeys.PREPARE_JPEG_QUALITY), config.get(CoordinatorKeys.PREPARE_KEEP_PATHS),
            overwrite);
    }

    /** A URI as given, or a local path made absolute ({@code file://}). */
    private static URI uri(final String text)
    {
        final URI parsed = URI.create(text.replace(" ", "%20"));
        return parsed.getScheme() != null && parsed.getScheme().length() > 1
            ? parsed : Path.of(text).toAbsolutePath().normalize().toUri();
    }

    /** One line per key the configuration derived because it was not set (e.g. the image size from the model). */
    public static void printDerived(final BatonConfig config, final PrintWriter out)
    {
        for (final Map.Entry<String, String> derived : config.derived().entrySet())
        {
            out.println(derived.getKey() + " = " + config.values().get(derived.getKey()) + " (not set: "
                + derived.getValue() + ")");
        }
    }

    private TrainResult result(final BatonConfig config, final List<ReplicaReport> reports)
    {
        final RunDirectory run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));
        // Images are RGB at data.image-size (prepare and the generated set both make them so); staged tensors have
        // their own channels.
        final int[] chw = io.baton.trainer.data.DataSources.exampleShape(config);
        final ComputationGraph trained = ModelExporter.inferenceGraph(readModel(run),
            (InputType.InputTypeConvolutional) InputType.convolutional(chw[1], chw[2], chw[0]));
        if (!reports.isEmpty())
        {
            final ReplicaReport r = reports.get(0);
            return new TrainResult(trained, run.uri().toString(), r.nextStep(), r.steps(), r.evalTop1(),
                r.evalTop5(), r.evalLoss(), r.evalSamples(), r.paramsChecksum(), r.lastLoss(), r.seconds());
        }
        // Already complete: the run's summary says what its last stage measured.
        try
        {
            final JsonNode summary = JSON.readTree(run.readText(RunDirectory.SUMMARY));
            return new TrainResult(trained, run.uri().toString(), summary.path("steps").asLong(), 0,
                number(summary, "val_top1"), number(summary, "val_top5"), number(summary, "val_loss"),
                summary.path("val_samples").asLong(), Long.parseUnsignedLong(summary.path("params_checksum")
                    .asText("0"), 16), Double.NaN, 0);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + run.path(RunDirectory.SUMMARY) + ": " + ex.getMessage(),
                ex);
        }
    }

    private static double number(final JsonNode node, final String field)
    {
        return node.path(field).isNumber() ? node.path(field).asDouble() : Double.NaN;
    }

    private static ComputationGraph readModel(final RunDirectory run)
    {
        final org.apache.hadoop.fs.Path path = run.path(RunDirectory.MODEL);
        try (InputStream in = run.fileSystem().open(path))
        {
            return org.deeplearning4j.util.ModelSerializer.restoreComputationGraph(in, false);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read the trained model " + path + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Top-1/top-5 of a model over a prepared validation split, every sample counted once, on {@code replicas}
     * replicas ({@code train.replicas}).
     *
     * @param model a run directory, its {@code model.zip}, an exported zip or a checkpoint directory.
     */
    public Evaluator.Result evaluate(final String model, final Settings settings)
    {
        // As baton evaluate: the model's run configuration (or the size it was exported for) is the base.
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(model);
        final String base = target.runConfig() != null ? target.runConfig() : target.imageSize() != null
            ? TrainerKeys.DATA_IMAGE_SIZE.name() + " = " + target.imageSize() : "";
        Settings effective = settings;
        if (context != null)
        {
            effective = effective.set(CoordinatorKeys.CLUSTER_MASTER.name(), context.master());
        }
        if (target.note() != null)
        {
            out.println(target.note());
            out.flush();
        }
        return new EvaluateJob(effective.configOver(base), context).run(target.modelUri(), target.classes(), out);
    }

    /**
     * Writes the inference form of a trained model (a run directory, its {@code model.zip}, or a checkpoint
     * directory) to {@code output}: plain DL4J classes only, with the verification sample and class names inside.
     *
     * @param overwrite replace an existing {@code output}.
     */
    public VerificationSample export(final String model, final Path output, final boolean overwrite)
    {
        return export(model, output.toAbsolutePath().toString(), overwrite);
    }

    /**
     * {@link #export(String, Path, boolean)} to any location: a local path or a Hadoop FS URI ({@code hdfs://},
     * {@code s3a://}), as is the model.
     */
    public VerificationSample export(final String model, final String output, final boolean overwrite)
    {
        return new ExportJob(out).export(model, output, overwrite, null);
    }

    /**
     * Fine-tunes a model on new data with its own schedule and the promotion gate ({@code retrain.*}); runs in this
     * JVM as one replica.
     *
     * @param from      a model zip, a run directory holding {@code model.zip}, or a checkpoint directory.
     * @param modelsDir where {@code latest.zip}, {@code candidates/} and {@code promotions.jsonl} live.
     */
    public RetrainOutcome retrain(final Path from, final Path modelsDir, final Settings settings) throws IOException
    {
        return new RetrainJob(settings.config(), from, modelsDir, out).run();
    }

    /**
     * {@link #retrain(Path, Path, Settings)} with the model and the models directory anywhere: local paths or Hadoop
     * FS URIs ({@code hdfs://}, {@code s3a://}).
     */
    public RetrainOutcome retrain(final String from, final String modelsDir, final Settings settings)
        throws IOException
    {
        return new RetrainJob(settings.config(), from, modelsDir, out).run();
    }

    /**
     * Writes the run's self-contained HTML report (loss, accuracy, learning rate, throughput, step-time breakdown,
     * health checks, events); works while the run trains.
     *
     * @param output where to write it, or null for {@code <run>/report.html}.
     * @return where it was written.
     */
    public String report(final String runDir, final String output)
    {
        return report(List.of(runDir), output);
    }

    /**
     * Writes one self-contained HTML page overlaying several runs (one series per run, labelled with its directory's
     * name), e.g. this week's retraining and last week's; runs with different step counts share the step axis. What
     * the reader should know about the input (an unfinished last metrics line, runs of different lengths) is printed
     * to the progress writer and shown on the page.
     *
     * @param output where to write it, or null for {@code <run>/report.html} (one run) or
     *               {@code <first run>/report-compare.html} (several).
     * @return where it was written.
     */
    public String report(final List<String> runDirs, final String output)
    {
        final RunReport.Written written = RunReport.write(runDirs.stream().map(RunDirectory::new).toList(), output);
        written.notes().forEach(note -> out.println("note: " + note));
        out.flush();
        return written.path().toString();
    }

    /** Refuses a context on which a barrier stage cannot run, naming the setting. */
    static void requireBarrierCapable(final JavaSparkContext sc)
    {
        if (sc.sc().isStopped())
        {
            throw new IllegalArgumentException("the Spark context is stopped; Baton needs a running one");
        }
        requireBarrierCapable(sc.getConf());
    }

    /** Refuses a configuration under which a barrier stage cannot run, naming the setting. */
    static void requireBarrierCapable(final SparkConf conf)
    {
        if (conf.getBoolean("spark.dynamicAllocation.enabled", false))
        {
            throw new IllegalArgumentException("spark.dynamicAllocation.enabled = true: Spark does not run barrier "
                + "stages with dynamic allocation, and Baton's replicas run as one; start this application with "
                + "spark.dynamicAllocation.enabled=false");
        }
    }
}
