package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import io.baton.coordinator.spark.SparkJobLabel;
import io.baton.trainer.data.shard.Manifest;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code baton prepare} on the driver: lists and labels the input (an image tree: {@link InputScanner}; ImageNet's
 * tar files: {@link TarInput}; tables with an image and a label column: {@link FrameSource}), cuts each split into shard tasks, runs them as one Spark job per split
 * ({@link ShardTaskRunner}), then writes {@code manifest.json} last, under a temporary name renamed into place — an
 * output without a manifest is incomplete. An existing output is refused unless {@code overwrite}. Dense sample ids
 * are assigned after the job from the shards' record counts, so skipped files leave no gaps.
 *
 * <p>Threading: {@link #run} is called by one thread; it owns its SparkContext unless one was given.
 */
public final class PrepareJob
{
    private final PrepareOptions options;
    private final PrintWriter out;

    public PrepareJob(final PrepareOptions options, final PrintWriter out)
    {
        this.options = options;
        this.out = out;
    }

    /** Runs with an embedded or remote SparkContext created for this job and stopped afterwards. */
    public Manifest run() throws IOException
    {
        try (JavaSparkContext sc = new JavaSparkContext(sparkConf()))
        {
            return run(sc);
        }
    }

    /** Reads {@link PrepareOptions#input()} as tables with a SparkSession created for this job and stopped afterwards. */
    public Manifest run(final TableInput tables) throws IOException
    {
        final SparkSession spark = SparkSession.builder().config(sparkConf()).getOrCreate();
        try
        {
            return run(spark, tables.read(spark, options.input(), options.splits()), tables.columns());
        }
        finally
        {
            spark.stop();
        }
    }

    private SparkConf sparkConf()
    {
        return new SparkConf()
            .setAppName("baton prepare " + options.input())
            .setIfMissing("spark.master", options.master())
            .setIfMissing("spark.executor.heartbeatInterval", "2s")
            .setIfMissing("spark.ui.showConsoleProgress", "false");
    }

    /** Runs on a given SparkContext (left running). */
    public Manifest run(final JavaSparkContext sc) throws IOException
    {
        return run(sc, new FileSource(sc, options));
    }

    /**
     * Prepares tables: one per split (e.g. {@code train}, {@code val}), each with an image column (encoded bytes or a
     * path on any Hadoop file system) and a label column, as {@link FrameSource} describes; on the session's context
     * (left running).
     */
    public Manifest run(final SparkSession spark, final Map<String, Dataset<Row>> splits, final FrameColumns columns)
        throws IOException
    {
        return run(JavaSparkContext.fromSparkContext(spark.sparkContext()), new FrameSource(splits, columns, options));
    }

    private Manifest run(final JavaSparkContext sc, final PrepareSource source) throws IOException
    {
        final FileSystem outFs = FileSystem.get(options.output(), HadoopConf.fresh());
        final Path outRoot = new Path(options.output());
        final List<String> classes = source.classes();
        final List<SplitPlan> plans = new ArrayList<>();
        for (final String split : options.splits())
        {
            plans.add(source.scan(split, classes));
        }
        prepareOutput(outFs, outRoot);

        final LongAccumulator files = sc.sc().longAccumulator("baton.prepare.files");
        final LongAccumulator bytes = sc.sc().longAccumulator("baton.prepare.bytes");
        final PrepareProgress progress = new PrepareProgress(files, bytes);
        sc.sc().addSparkListener(progress);
        final Map<String, Manifest.Split> splits = new LinkedHashMap<>();
        try
        {
            for (final SplitPlan plan : plans)
            {
                splits.put(plan.split(), runSplit(sc, source, plan, classes.size(), progress, files, bytes, outFs,
                    outRoot));
            }
        }
        finally
        {
            sc.sc().removeSparkListener(progress);
        }

        final Map<String, Object> described = new LinkedHashMap<>(options.describe());
        described.putAll(source.describe());
        final Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, classes, Manifest.indexOf(classes), splits,
            described, Instant.now().toString());
        writeManifest(outFs, outRoot, manifest);
        out.println("prepare: wrote " + new Path(outRoot, Manifest.FILE_NAME));
        out.flush();
        return manifest;
    }

    private Manifest.Split runSplit(
        final JavaSparkContext sc,
        final PrepareSource source,
        final SplitPlan plan,
        final int numClasses,
        final PrepareProgress progress,
        final LongAccumulator files,
        final LongAccumulator bytes,
        final FileSystem outFs,
        final Path outRoot) throws IOException
    {
        final List<ShardTask> tasks = ShardTask.plan(plan, options.shardBytes());
        progress.start(plan.split(), plan.files().size());
        final List<ShardResult> results;
        try (PrepareProgress.Printer printer = progress.printer(out, 2000);
             SparkJobLabel.Scope label = SparkJobLabel.prepare(plan.split(), plan.files().size(), tasks.size(),
                 options.output().toString()).apply(sc))
        {
            results = new ArrayList<>(source.write(sc, plan, tasks, numClasses, files, bytes));
        }
        out.println(progress.line());
        if (!plan.ignored().isEmpty())
        {
            out.println("prepare " + plan.split() + ": ignored " + plan.ignored().size() + " file(s) not named "
                + "*.JPEG/.jpg/.jpeg/.png: " + String.join(", ", plan.ignored().subList(0, Math.min(5,
                plan.ignored().size()))) + (plan.ignored().size() > 5 ? ", ..." : ""));
        }
        results.sort(Comparator.comparingInt(ShardResult::index));

        final List<Manifest.ShardEntry> shards = new ArrayList<>();
        final List<Manifest.SkippedFile> skipped = new ArrayList<>(plan.skipped());
        final long[] perClass = new long[numClasses];
        long next = 0;
        long inputBytes = 0;
        for (final ShardResult result : results)
        {
            skipped.addAll(result.skipped());
            inputBytes += result.inputBytes();
            for (int c = 0; c < numClasses; c++)
            {
                perClass[c] += result.perClass()[c];
            }
            if (result.count() == 0)
            {
                outFs.delete(new Path(outRoot, result.file()), false);
                continue;
            }
            shards.add(new Manifest.ShardEntry(result.file(), next, result.count(), result.bytes(),
                Manifest.crcHex(result.crc32c())));
            next += result.count();
        }
        for (final Manifest.SkippedFile file : skipped)
        {
            out.println("prepare " + plan.split() + ": skipped " + file.path() + ": " + file.reason());
        }
        out.println("prepare " + plan.split() + ": " + next + " samples in " + shards.size() + " shards, "
            + skipped.size() + " skipped");
        out.flush();
        final List<Long> counts = new ArrayList<>();
        for (final long c : perClass)
        {
            counts.add(c);
        }
        return new Manifest.Split(next, counts, plan.layout(), shards, skipped, inputBytes);
    }

    private void prepareOutput(final FileSystem fs, final Path root) throws IOException
    {
        if (fs.exists(root))
        {
            final boolean empty = fs.getFileStatus(root).isDirectory() && fs.listStatus(root).length == 0;
            if (!empty && !options.overwrite())
            {
                final boolean finished = fs.exists(new Path(root, Manifest.FILE_NAME));
                throw new IllegalArgumentException("output " + root + " already exists" + (finished
                    ? " (a finished prepare: it has " + Manifest.FILE_NAME + ")"
                    : " without " + Manifest.FILE_NAME + " (an earlier prepare that did not finish, or another "
                    + "folder)") + "; use --overwrite to replace it");
            }
            if (!empty && !fs.delete(root, true))
            {
                throw new IOException("could not delete the existing output " + root);
            }
        }
        fs.mkdirs(root);
    }

    private static void writeManifest(final FileSystem fs, final Path root, final Manifest manifest)
        throws IOException
    {
        final Path temp = new Path(root, "_" + Manifest.FILE_NAME + ".tmp");
        try (FSDataOutputStream stream = fs.create(temp, true))
        {
            stream.write(manifest.toJson());
        }
        final Path target = new Path(root, Manifest.FILE_NAME);
        if (!fs.rename(temp, target))
        {
            throw new IOException("could not rename " + temp + " to " + target);
        }
    }
}
