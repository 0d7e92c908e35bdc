package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A table input of {@code baton prepare INPUT} read through Spark: {@code parquet}, {@code orc}, {@code binaryFile}
 * or {@code image} (the last two recursively), with the columns of {@link FrameColumns}.
 *
 * <p>Splits: with a split column, INPUT is one table whose rows go to the split its value names (e.g. a table
 * written with {@code partitionBy("split")}); without one, each split is read from {@code INPUT/<split>}, or, when
 * only one split is asked for and there is no such folder, from INPUT itself.
 *
 * @param format      {@code parquet}, {@code orc}, {@code binaryFile} or {@code image}.
 * @param columns     the image, label and name columns.
 * @param splitColumn the column naming each row's split, or null.
 */
public record TableInput(String format, FrameColumns columns, String splitColumn)
{
    /** The formats prepare reads as tables. */
    public static final List<String> FORMATS = List.of("parquet", "orc", "binaryFile", "image");

    public TableInput
    {
        if (!FORMATS.contains(format))
        {
            throw new IllegalArgumentException("format '" + format + "' is not one of " + String.join(", ", FORMATS));
        }
    }

    /** The table format an input path's extension names ({@code .parquet}, {@code .orc}), or null. */
    public static String formatOf(final URI input)
    {
        final String path = input.getPath() == null ? "" : input.getPath().toLowerCase(Locale.ROOT)
            .replaceAll("/+$", "");
        return path.endsWith(".parquet") ? "parquet" : path.endsWith(".orc") ? "orc" : null;
    }

    /**
     * The columns a format reads unless told otherwise: {@code binaryFile}'s {@code content} named by its
     * {@code path}, {@code image}'s struct named by its origin, both labelled by parent folder and, for
     * {@code binaryFile}, only image file names; {@code image} and {@code label} columns for Parquet and ORC.
     */
    public static FrameColumns defaults(final String format, final String image, final String label,
        final String name)
    {
        return switch (format)
        {
            case "binaryFile" -> new FrameColumns(image == null ? "content" : image, label,
                name == null ? "path" : name, label == null, true);
            case "image" -> new FrameColumns(image == null ? "image" : image, label, name, label == null, false);
            default -> new FrameColumns(image == null ? "image" : image, label == null ? "label" : label, name, false,
                false);
        };
    }

    /** One table per split. */
    public Map<String, Dataset<Row>> read(final SparkSession spark, final URI input, final List<String> splits)
        throws IOException
    {
        final FileSystem fs = FileSystem.get(input, HadoopConf.fresh());
        final Path root = new Path(input);
        if (!fs.exists(root))
        {
            throw new IllegalArgumentException("input " + input + " does not exist");
        }
        final Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        if (splitColumn != null)
        {
            final Dataset<Row> all = reader(spark).load(input.toString());
            if (!List.of(all.schema().fieldNames()).contains(splitColumn))
            {
                throw new IllegalArgumentException("no split column '" + splitColumn + "' in " + input
                    + " (columns: " + String.join(", ", all.schema().fieldNames()) + ")");
            }
            for (final String split : splits)
            {
                tables.put(split, all.filter(functions.col(splitColumn).cast("string").equalTo(split)));
            }
            return tables;
        }
        for (final String split : splits)
        {
            final Path folder = new Path(root, split);
            if (fs.exists(folder))
            {
                tables.put(split, reader(spark).load(folder.toString()));
            }
            else if (splits.size() == 1)
            {
                tables.put(split, reader(spark).load(input.toString()));
            }
            else
            {
                throw new IllegalArgumentException("no " + folder + " for split " + split + "; a " + format
                    + " input holds one folder per split, or give --split-col, or --splits with the one split INPUT "
                    + "is");
            }
        }
        return tables;
    }

    private DataFrameReader reader(final SparkSession spark)
    {
        final DataFrameReader reader = spark.read().format(format);
        return "binaryFile".equals(format) || "image".equals(format)
            ? reader.option("recursiveFileLookup", "true") : reader;
    }
}
