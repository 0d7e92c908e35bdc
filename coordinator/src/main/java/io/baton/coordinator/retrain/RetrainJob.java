package io.baton.coordinator.retrain;

import io.baton.common.config.BatonConfig;
import io.baton.common.store.HadoopConf;
import io.baton.common.store.LineFiles;
import io.baton.common.store.StagedFile;
import io.baton.common.store.StoreSemantics;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.OpsKeys;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.coordinator.train.MemoryPreflight;
import io.baton.coordinator.lock.DirectoryLock;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.TrainPlan;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.export.ModelExporter;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.retrain.BnRecalibration;
import io.baton.trainer.run.Evaluator;
import io.baton.trainer.run.TrainingLoop;
import io.baton.trainer.run.SingleRankCommunicator;
import io.baton.trainer.run.StepMetrics;
import io.baton.trainer.run.TimedCommunicator;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Scheduled retraining in one process: load a model, optionally re-estimate its BN statistics on the new data,
 * continue training with the retrain schedule through the regular replica loop (world size 1, a
 * {@link SingleRankCommunicator}), evaluate, export the candidate to {@code <models>/candidates/<id>.zip}, and
 * promote it to {@code <models>/latest.zip} through the {@link PromotionGate}. Every decision is appended to
 * {@code <models>/promotions.jsonl}; the step metrics go to {@code <models>/candidates/<id>/metrics.jsonl} (a run
 * directory {@code baton report} reads).
 *
 * <p>The job holds the models directory's {@link DirectoryLock} from before it creates the candidate until the
 * decision is recorded, so a second retrain on the same models directory (a schedule firing while the previous one
 * still runs) is refused instead of racing it to {@code latest.zip}.
 *
 * <p>Threading: the caller's thread.
 */
public final class RetrainJob
{
    /** The promoted model inside the models directory. */
    public static final String LATEST = "latest.zip";
    /** One JSON line per retrain decision. */
    public static final String PROMOTIONS = "promotions.jsonl";
    /** Candidate models. */
    public static final String CANDIDATES = "candidates";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BatonConfig config;
    /** A model zip or a checkpoint directory, local path or Hadoop FS URI. */
    private final String from;
    private final boolean fromCheckpoint;
    /** The models directory as named (a local path or a Hadoop FS URI), and on its file system. */
    private final String modelsDir;
    private final FileSystem modelsFs;
    private final org.apache.hadoop.fs.Path modelsPath;
    private final PrintWriter out;

    /**
     * @param config    the job configuration with the retrain overrides applied (train.epochs, optim.*).
     * @param from      a model zip, a run directory holding model.zip, or a checkpoint directory (ckpt-<step>); a local
     *                  path or a Hadoop FS URI (a zip there is read from a local copy).
     * @param modelsDir where latest.zip, candidates/ and promotions.jsonl live: a local path or a Hadoop FS URI.
     * @param out       progress output.
     */
    public RetrainJob(final BatonConfig config, final String from, final String modelsDir, final PrintWriter out)
    {
        this.config = config;
        final RunDirectory named = new RunDirectory(from);
        if (!named.fileSystemExists())
        {
            throw new IllegalArgumentException("--from " + from + " does not exist");
        }
        this.fromCheckpoint = CheckpointModel.isCheckpoint(from) && named.isDirectory();
        this.from = fromCheckpoint || !named.isDirectory() ? from : named.path(RunDirectory.MODEL).toString();
        this.modelsDir = StagedFile.isLocal(modelsDir) ? Path.of(StagedFile.toUri(modelsDir)).toString() : modelsDir;
        this.modelsPath = new org.apache.hadoop.fs.Path(StagedFile.toUri(modelsDir));
        try
        {
            // The raw local file system: no .crc files beside the models, which other tools copy around.
            this.modelsFs = StagedFile.isLocal(modelsDir) ? FileSystem.getLocal(HadoopConf.fresh()).getRaw()
                : modelsPath.getFileSystem(HadoopConf.fresh());
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("models directory " + modelsDir + ": " + ex.getMessage(), ex);
        }
        this.out = out;
        if (!fromCheckpoint && (!new RunDirectory(this.from).fileSystemExists() || new RunDirectory(this.from)
            .isDirectory()))
        {
            throw new IllegalArgumentException("--from " + from + ": no model file " + this.from);
        }
    }

    /** {@link #RetrainJob(BatonConfig, String, Path, PrintWriter)} from a local path. */
    public RetrainJob(final BatonConfig config, final Path from, final Path modelsDir, final PrintWriter out)
    {
        this(config, from.toAbsolutePath().toString(), modelsDir.toAbsolutePath().toString(), out);
    }

    /** A file or directory in the models directory, named as the user would (a local path or a URI). */
    private String at(final String... names)
    {
        final StringBuilder location = new StringBuilder(modelsDir);
        for (final String name : names)
        {
            location.append('/').append(name);
        }
        return location.toString();
    }

    private org.apache.hadoop.fs.Path pathOf(final String... names)
    {
        org.apache.hadoop.fs.Path path = modelsPath;
        for (final String name : names)
        {
            path = new org.apache.hadoop.fs.Path(path, name);
        }
        return path;
    }

    public RetrainOutcome run() throws IOException
    {
        DataSources.requireReadable(config, DataSources.TRAIN, DataSources.VAL);
        try (BatchSource train = DataSources.open(config, DataSources.TRAIN))
        {
            final String warning = MemoryPreflight.check(config, config.get(TrainerKeys.TRAIN_GLOBAL_BATCH), 1,
                train.numClasses());
            if (warning != null)
            {
                out.println(warning);
                out.flush();
            }
        }
        try
        {
            if (!modelsFs.mkdirs(modelsPath))
            {
                throw new IOException("mkdirs returned false");
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("models directory " + modelsDir + " cannot be created: " + ex, ex);
        }
        try (DirectoryLock lock = DirectoryLock.acquire(modelsFs, modelsPath, "baton retrain",
            config.get(CoordinatorKeys.RUN_LOCK_STALE_AFTER), config.get(CoordinatorKeys.RUN_LOCK_UNSAFE_STORE)))
        {
            return runLocked();
        }
    }

    private RetrainOutcome runLocked() throws IOException
    {
        final String id = candidateId();
        final CheckpointModel checkpoint = fromCheckpoint ? CheckpointModel.load(from) : null;
        final ComputationGraph graph;
        final List<String> modelClasses;
        if (checkpoint != null)
        {
            graph = checkpoint.graph();
            modelClasses = checkpoint.classes();
        }
        else
        {
            try (StagedFile zip = StagedFile.read(from))
            {
                graph = ModelSerializer.restoreComputationGraph(zip.local().toFile(), false);
                modelClasses = ModelClasses.read(zip.local());
            }
        }
        final int batch = config.get(TrainerKeys.TRAIN_GLOBAL_BATCH);
        final long seed = config.get(TrainerKeys.TRAIN_SEED);
        try (SingleRankCommunicator single = new SingleRankCommunicator();
             TimedCommunicator communicator = new TimedCommunicator(single);
             BatchSource train = DataSources.open(config, DataSources.TRAIN);
             BatchSource val = DataSources.open(config, DataSources.VAL))
        {
            // A retrain keeps the model's classes: data that names them differently (a class added or renamed, so the
            // folders sort differently) would teach outputs other meanings than the model's users expect.
            final String data = "--data " + config.get(TrainerKeys.DATA_PATH);
            ModelClasses.requireMatch(modelClasses, train.classNames(), data, true);
            final String latest = at(LATEST);
            final boolean hasLatest = modelsFs.isFile(pathOf(LATEST));
            if (hasLatest)
            {
                try (StagedFile current = StagedFile.read(latest))
                {
                    ModelClasses.requireMatch(ModelClasses.read(current.local()), train.classNames(),
                        data + " (against the current " + latest + ")", true);
                }
            }
            checkCompatible(graph, val);
            modelsFs.mkdirs(pathOf(CANDIDATES, id));
            final int recalibrate = config.get(OpsKeys.RETRAIN_RECALIBRATE_BN_BATCHES);
            int bnLayers = 0;
            if (recalibrate > 0)
            {
                bnLayers = BnRecalibration.recalibrate(graph, train, recalibrate, batch, seed);
                out.printf("recalibrated %d BN layers on %d batches of %d%n", bnLayers, recalibrate, batch);
            }
            long steps = 0;
            final int epochs = config.get(OpsKeys.RETRAIN_EPOCHS);
            if (epochs > 0)
            {
                try (StagedFile metrics = StagedFile.write(at(CANDIDATES, id, RunDirectory.METRICS), true,
                    "candidate metrics"))
                {
                    steps = train(graph, communicator, train, metrics.local());
                    metrics.publish();
                }
            }
            final Evaluator.Result candidate = Evaluator.evaluate(graph, communicator, val, batch);
            final int[] chw = val.shape();
            final String candidateZip = at(CANDIDATES, id + ".zip");
            final double current = hasLatest ? score(latest, communicator, val, batch) : Double.NaN;
            final PromotionGate gate = new PromotionGate(config.get(OpsKeys.RETRAIN_PROMOTION_TOLERANCE));
            final boolean promoted = gate.promotes(candidate.top1(), current);
            try (StagedFile zip = StagedFile.write(candidateZip, false, "candidate " + candidateZip))
            {
                ModelExporter.export(graph, (InputType.InputTypeConvolutional)InputType.convolutional(chw[1],
                    chw[2], chw[0]), zip.local(), seed, config.get(TrainerKeys.HEALTH_MAX_BN_MEAN),
                    train.classNames().isEmpty() ? modelClasses : train.classNames());
                zip.publish();
                if (promoted)
                {
                    promote(zip.local());
                }
            }
            final RetrainOutcome outcome = new RetrainOutcome(promoted, candidateZip, candidate.top1(), current,
                candidate.samples(), steps, bnLayers);
            record(id, outcome, gate);
            return outcome;
        }
    }

    /**
     * Replaces latest.zip with the candidate (its local file) so that a reader never sees half of it: a staged copy
     * renamed over it where rename is atomic (local disks, HDFS), a single PUT on an object store.
     */
    private void promote(final Path candidate) throws IOException
    {
        final org.apache.hadoop.fs.Path latest = pathOf(LATEST);
        if (!StoreSemantics.atomicRename(modelsFs))
        {
            StagedFile.upload(candidate, modelsFs, latest);
            return;
        }
        final org.apache.hadoop.fs.Path staged = pathOf("." + LATEST + ".tmp");
        StagedFile.upload(candidate, modelsFs, staged);
        FileContext.getFileContext(modelsFs.getUri(), modelsFs.getConf()).rename(staged, latest,
            Options.Rename.OVERWRITE);
    }

    private long train(final ComputationGraph graph, final TimedCommunicator communicator, final BatchSource train,
        final Path metricsFile) throws IOException
    {
        try (PrintWriter metrics = new PrintWriter(Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8)))
        {
            final TrainingLoop trainer = new TrainingLoop(graph, communicator, train,
                TrainPlan.sampler(config, train.size(), 1), TrainingRecipe.schedule(config),
                config.get(TrainerKeys.TRAIN_EPOCHS), 0, TrainingRecipe.optimizer(config, graph),
                (StepMetrics m) ->
                {
                    metrics.println(m.toJson());
                    metrics.flush();
                    if (m.stepInEpoch() + 1 == m.stepsPerEpoch())
                    {
                        out.printf(Locale.ROOT, "retrain epoch %d: step %d, loss %.4f, lr %.5f%n", m.epoch() + 1,
                            m.step() + 1, m.loss(), m.lr());
                        out.flush();
                    }
                });
            return trainer.train(0);
        }
    }

    private static double score(final String model, final TimedCommunicator communicator, final BatchSource val,
        final int batch) throws IOException
    {
        final ComputationGraph current;
        try (StagedFile zip = StagedFile.read(model))
        {
            current = ModelSerializer.restoreComputationGraph(zip.local().toFile(), false);
        }
        checkCompatible(current, val);
        return Evaluator.evaluate(current, communicator, val, batch).top1();
    }

    private static void checkCompatible(final ComputationGraph graph, final BatchSource val)
    {
        final int[] chw = val.shape();
        final long outputs = graph.outputSingle(false, val.load(new int[] {0}, 0, false).features()).size(1);
        if (outputs != val.numClasses())
        {
            throw new IllegalArgumentException("model has " + outputs + " outputs but the data has "
                + val.numClasses() + " classes (input " + chw[0] + "x" + chw[1] + "x" + chw[2] + ")");
        }
    }

    private void record(final String id, final RetrainOutcome outcome, final PromotionGate gate) throws IOException
    {
        final ObjectNode line = JSON.createObjectNode();
        line.put("time", Instant.now().toString());
        line.put("id", id);
        line.put("from", from);
        line.put("candidate", outcome.candidate());
        line.put("candidate_top1", outcome.candidateTop1());
        if (Double.isNaN(outcome.currentTop1()))
        {
            line.putNull("current_top1");
        }
        else
        {
            line.put("current_top1", outcome.currentTop1());
        }
        line.put("tolerance", gate.tolerance());
        line.put("val_samples", outcome.valSamples());
        line.put("steps", outcome.steps());
        line.put("bn_layers_recalibrated", outcome.bnLayersRecalibrated());
        line.put("promoted", outcome.promoted());
        LineFiles.append(modelsFs, pathOf(PROMOTIONS), JSON.writeValueAsString(line) + "\n");
    }

    private String candidateId()
    {
        final String base = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC)
            .format(Instant.now());
        String id = base;
        for (int n = 2; exists(pathOf(CANDIDATES, id)); n++)
        {
            id = base + "-" + n;
        }
        return id;
    }

    private boolean exists(final org.apache.hadoop.fs.Path path)
    {
        try
        {
            return modelsFs.exists(path);
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException("cannot read " + path + ": " + ex.getMessage(), ex);
        }
    }
}
