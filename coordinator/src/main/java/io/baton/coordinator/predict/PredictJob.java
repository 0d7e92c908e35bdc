package io.baton.coordinator.predict;

import io.baton.common.config.BatonConfig;
import io.baton.common.store.HadoopConf;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.evaluate.EvaluateProgress;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.export.ModelClasses;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The driver of {@code baton predict}: a model's predictions for every image of an input ({@link PredictInput}),
 * scored by {@link ImagePredictor} (the same inference as {@code BatonClassificationModel.transform}), written as
 * Parquet (a Spark output folder; {@code probabilities} an array column) or CSV (one file with a header; one column
 * {@code p_<class>} per class). Every output row has {@code name}, {@code class} (the predicted class name),
 * {@code index} (its output index) and {@code probability} (of that class); a prepared split adds {@code label} (the
 * true class). A row whose image cannot be read or decoded has nulls there and is counted.
 */
public final class PredictJob
{
    /** What a prediction run did. */
    public record Summary(long rows, long undecodable, long labelled, long correct, String output)
    {
        /** Top-1 against the input's labels (prepared data), or NaN without labels. */
        public double top1()
        {
            return labelled == 0 ? Double.NaN : (double)correct / labelled;
        }
    }

    private final BatonConfig config;
    private final JavaSparkContext providedContext;

    /**
     * @param config  the model's configuration (its image size and evaluation transform) with the CLI's keys.
     * @param context the caller's context, or null to create one from {@code cluster.*} and stop it at the end.
     */
    public PredictJob(final BatonConfig config, final JavaSparkContext context)
    {
        this.config = config;
        this.providedContext = context;
    }

    /**
     * @param classes   the model's class names (index = output); empty = the index as the class.
     * @param batchSize rows per forward pass.
     */
    public Summary run(final String modelUri, final List<String> classes, final PredictInput input,
        final String output, final boolean overwrite, final int batchSize, final PrintWriter out)
    {
        final boolean csv = output.toLowerCase(Locale.ROOT).endsWith(".csv");
        final Path target = new Path(DataSources.toUri(output));
        requireWritable(target, overwrite);
        final byte[] model = modelBytes(modelUri, classes);
        final JavaSparkContext sc = providedContext != null ? providedContext : SparkContexts.create(config);
        try
        {
            final SparkSession spark = SparkSession.builder().sparkContext(sc.sc()).getOrCreate();
            final Dataset<Row> rows = input.read(spark);
            final long total = rows.count();
            final Broadcast<byte[]> broadcast = sc.broadcast(model);
            final LongAccumulator scored = sc.sc().longAccumulator("baton.predict.scored");
            final LongAccumulator undecodable = sc.sc().longAccumulator("baton.predict.undecodable");
            final ImagePredictor predictor = new ImagePredictor(broadcast, config.render(), classes, rows.schema(),
                "image", batchSize, PredictJob::asArray, scored,
                undecodable);
            final Dataset<Row> predicted = spark.createDataFrame(rows.toJavaRDD().mapPartitions(predictor),
                ImagePredictor.outputSchema(rows.schema(), "index", "class", "probabilities",
                    DataTypes.createArrayType(DataTypes.DoubleType)));
            final Dataset<Row> result = select(predicted, classes, csv).persist(StorageLevel.MEMORY_AND_DISK());
            try (EvaluateProgress progress = new EvaluateProgress(sc, scored, total, out,
                config.get(CoordinatorKeys.PROGRESS_INTERVAL), "predict", "rows"))
            {
                write(result, target, csv, overwrite);
            }
            final boolean labelled = Arrays.asList(result.columns()).contains("label");
            final long correct = labelled ? result.filter(result.col("label").equalTo(result.col("class"))).count()
                : 0;
            result.unpersist();
            broadcast.destroy();
            return new Summary(total, undecodable.value(), labelled ? total : 0, correct, target.toString());
        }
        finally
        {
            if (providedContext == null)
            {
                sc.stop();
            }
        }
    }

    /** Spark's row encoder takes a double[] for an array of doubles as it is. */
    private static Object asArray(final double[] probabilities)
    {
        return probabilities;
    }

    /** The output columns: name, [label], class, index, probability, and the probabilities as an array or per class. */
    private static Dataset<Row> select(final Dataset<Row> predicted, final List<String> classes, final boolean csv)
    {
        final List<Column> columns = new ArrayList<>(List.of(predicted.col("name")));
        if (Arrays.asList(predicted.columns()).contains("label"))
        {
            columns.add(predicted.col("label"));
        }
        final Column index = predicted.col("index").cast(DataTypes.IntegerType);
        columns.add(predicted.col("class"));
        columns.add(index.as("index"));
        columns.add(functions.element_at(predicted.col("probabilities"), index.plus(1)).as("probability"));
        if (!csv)
        {
            columns.add(predicted.col("probabilities"));
        }
        else
        {
            for (int c = 0; c < classes.size(); c++)
            {
                columns.add(functions.element_at(predicted.col("probabilities"), c + 1).as("p_" + classes.get(c)));
            }
        }
        return predicted.select(columns.toArray(Column[]::new));
    }

    /** Parquet as Spark's output folder; CSV as one file with a header, written through a folder beside it. */
    private static void write(final Dataset<Row> result, final Path target, final boolean csv,
        final boolean overwrite)
    {
        if (!csv)
        {
            result.write().mode(overwrite ? "overwrite" : "errorifexists").parquet(target.toString());
            return;
        }
        final Path staging = new Path(target.getParent(), "." + target.getName() + ".parts");
        result.coalesce(1).write().mode("overwrite").option("header", "true").csv(staging.toString());
        try
        {
            final FileSystem fs = target.getFileSystem(HadoopConf.fresh());
            final FileStatus[] parts = fs.globStatus(new Path(staging, "part-*"));
            if (parts == null || parts.length != 1)
            {
                throw new IllegalStateException("expected one CSV part in " + staging + ", found "
                    + (parts == null ? 0 : parts.length));
            }
            if (overwrite)
            {
                fs.delete(target, true);
            }
            if (!fs.rename(parts[0].getPath(), target))
            {
                throw new IOException("cannot move " + parts[0].getPath() + " to " + target);
            }
            fs.delete(staging, true);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("writing " + target + ": " + ex.getMessage(), ex);
        }
    }

    private static void requireWritable(final Path target, final boolean overwrite)
    {
        try
        {
            if (!overwrite && target.getFileSystem(HadoopConf.fresh()).exists(target))
            {
                throw new IllegalArgumentException("-o " + target + " exists; give --overwrite to replace it");
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("-o " + target + ": " + ex.getMessage(), ex);
        }
    }

    /** The model as DL4J zip bytes: a zip as it is, a checkpoint's network with the classes written in. */
    private static byte[] modelBytes(final String modelUri, final List<String> classes)
    {
        try
        {
            if (CheckpointModel.isCheckpoint(modelUri))
            {
                final ByteArrayOutputStream zip = new ByteArrayOutputStream();
                ModelClasses.writeModel(CheckpointModel.load(modelUri).graph(), false, classes, zip);
                return zip.toByteArray();
            }
            final Path path = new Path(DataSources.toUri(modelUri));
            try (FSDataInputStream in = path.getFileSystem(HadoopConf.fresh()).open(path))
            {
                return in.readAllBytes();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("--model " + modelUri + " cannot be read: " + ex.getMessage(), ex);
        }
    }
}
