package io.baton.coordinator.predict;

import io.baton.common.store.HadoopConf;
import io.baton.coordinator.prepare.ImageStruct;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.data.shard.ShardRecord;
import io.baton.trainer.data.shard.ShardedDataset;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code baton predict} reads, as a table of {@code name} (string), {@code image} (encoded bytes or a path) and,
 * for a prepared split, {@code label} (the true class name): a split of {@code baton prepare}'s output (its records
 * read by sample id on the executors), a folder tree of images (Spark's {@code binaryFile} source, recursively, the
 * names ending .jpeg/.jpg/.png), or a Parquet table with an image column.
 *
 * @param format   {@code prepared}, {@code tree} or {@code parquet}.
 * @param location the input, a local path or a Hadoop FS URI.
 * @param split    the split of prepared data.
 * @param imageCol the Parquet table's image column (binary bytes or string paths).
 * @param nameCol  the Parquet table's name column; null = the path of a path column, else the SHA-256 of the bytes.
 */
public record PredictInput(String format, String location, String split, String imageCol, String nameCol)
{
    public static final List<String> FORMATS = List.of("prepared", "tree", "parquet");

    /** The format a location implies: prepared data has a manifest, {@code .parquet} is Parquet, else a tree. */
    public static String detect(final String location)
    {
        final Path manifest = new Path(new Path(DataSources.toUri(location)), "manifest.json");
        try
        {
            if (manifest.getFileSystem(HadoopConf.fresh()).exists(manifest))
            {
                return "prepared";
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("--input " + location + ": " + ex.getMessage(), ex);
        }
        return location.toLowerCase(Locale.ROOT).endsWith(".parquet") ? "parquet" : "tree";
    }

    /** The input as a table of name, image and (prepared data only) label. */
    Dataset<Row> read(final SparkSession spark)
    {
        final String uri = DataSources.toUri(location).toString();
        return switch (format)
        {
            case "prepared" -> prepared(spark, uri);
            case "tree" -> {
                final Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                    .load(uri);
                final Column path = functions.lower(files.col("path"));
                yield files.filter(path.endsWith(".jpeg").or(path.endsWith(".jpg")).or(path.endsWith(".png")))
                    .select(files.col("path").as("name"), files.col("content").as("image"));
            }
            case "parquet" -> parquet(spark.read().parquet(uri));
            default -> throw new IllegalArgumentException("--format " + format + " is not one of " + FORMATS);
        };
    }

    private Dataset<Row> parquet(final Dataset<Row> table)
    {
        final DataType type = ImagePredictor.requireImageColumn(table.schema(), imageCol, "predict");
        final Column name;
        if (nameCol != null)
        {
            if (!Arrays.asList(table.schema().fieldNames()).contains(nameCol))
            {
                throw new IllegalArgumentException("no name column '" + nameCol + "' in " + location + " (columns: "
                    + String.join(", ", table.schema().fieldNames()) + ")");
            }
            name = table.col(nameCol).cast(DataTypes.StringType);
        }
        else
        {
            name = type.equals(DataTypes.StringType) ? table.col(imageCol) : ImageStruct.is(type)
                ? table.col(imageCol).getField("origin") : functions.sha2(table.col(imageCol), 256);
        }
        return table.select(name.as("name"), table.col(imageCol).as("image"));
    }

    private Dataset<Row> prepared(final SparkSession spark, final String uri)
    {
        final long size;
        final List<String> classes;
        try (ShardedDataset dataset = open(uri, split))
        {
            size = dataset.size();
            classes = dataset.classes();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("--input " + location + ": " + ex.getMessage(), ex);
        }
        final String splitName = split;
        final List<String> names = new ArrayList<>(classes);
        final int partitions = (int) Math.max(1, Math.min(size, spark.sparkContext().defaultParallelism() * 4L));
        final JavaRDD<Row> rows = spark.range(0, size, 1, partitions).javaRDD().mapPartitions(part ->
            {
                final List<Row> out = new ArrayList<>();
                try (ShardedDataset dataset = open(uri, splitName))
                {
                    while (part.hasNext())
                    {
                        final ShardRecord record = dataset.record(part.next());
                        out.add(RowFactory.create(record.path() != null ? record.path()
                            : splitName + "/" + record.sampleId(), names.get(record.label()), record.bytes()));
                    }
                }
                return out.iterator();
            });
        return spark.createDataFrame(rows, new StructType().add("name", DataTypes.StringType)
            .add("label", DataTypes.StringType).add("image", DataTypes.BinaryType));
    }

    private static ShardedDataset open(final String uri, final String split) throws IOException
    {
        try
        {
            return ShardedDataset.open(URI.create(uri), split, java.nio.file.Path.of(System.getProperty(
                "java.io.tmpdir"), "baton-shards"), ShardedDataset.DEFAULT_CACHE_BYTES);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--input " + uri + ": " + ex.getMessage(), ex);
        }
    }
}
