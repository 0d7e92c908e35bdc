package io.baton.coordinator.predict;

import io.baton.common.store.HadoopConf;
import io.baton.coordinator.prepare.ImageStruct;
import io.baton.trainer.data.image.RgbImage;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Distributed inference over a DataFrame's partitions, shared by {@code BatonClassificationModel.transform} and
 * {@code baton predict}: each task takes the broadcast model from {@link ExecutorModels} (deserialized once per
 * executor JVM), decodes each row's image (encoded bytes, a path on any Hadoop file system, or Spark's image struct,
 * encoded as {@code prepare} stores it) and applies the
 * evaluation transform exactly as {@code baton evaluate} does, scores batches of {@code batchSize} rows in inference
 * mode and appends three columns to each row: the predicted class index (double), its class name and the class
 * probabilities. A row whose image is null, missing or does not decode gets nulls there and is counted in
 * {@code undecodable}; the task goes on.
 */
public final class ImagePredictor implements FlatMapFunction<Iterator<Row>, Row>
{
    private static final long serialVersionUID = 1L;

    /** How the probabilities are stored in the row: an ML vector, an array of doubles. */
    public interface ProbabilityEncoder extends Serializable
    {
        Object encode(double[] probabilities);
    }

    private final Broadcast<byte[]> model;
    private final String configText;
    private final List<String> classes;
    private final int imageIndex;
    private final DataType imageType;
    private final int batchSize;
    private final ProbabilityEncoder encoder;
    private final LongAccumulator scored;
    private final LongAccumulator undecodable;

    /**
     * @param model       the DL4J model zip's bytes.
     * @param configText  the configuration it was trained with (its image size, evaluation resize and
     *                    normalisation, JPEG decoder).
     * @param classes     class names, index = output; empty = none (the class column is then the index as text).
     * @param input       the schema of the rows to score; {@code imageColumn} must be binary or string
     *                    ({@link #requireImageColumn}).
     * @param scored      counts rows scored (with or without an image), for a progress line.
     * @param undecodable counts rows whose image could not be read or decoded.
     */
    public ImagePredictor(final Broadcast<byte[]> model, final String configText, final List<String> classes,
        final StructType input, final String imageColumn, final int batchSize, final ProbabilityEncoder encoder,
        final LongAccumulator scored, final LongAccumulator undecodable)
    {
        if (batchSize <= 0)
        {
            throw new IllegalArgumentException("batch size must be > 0, batchSize=" + batchSize);
        }
        this.imageType = requireImageColumn(input, imageColumn, "inference");
        this.model = model;
        this.configText = configText;
        this.classes = new ArrayList<>(classes);
        this.imageIndex = input.fieldIndex(imageColumn);
        this.batchSize = batchSize;
        this.encoder = encoder;
        this.scored = scored;
        this.undecodable = undecodable;
    }

    /**
     * The image column's type, binary (encoded bytes), string (a path or URI) or Spark's image struct; anything else,
     * or no such column, is refused in one line naming the column and its type.
     */
    public static DataType requireImageColumn(final StructType schema, final String column, final String who)
    {
        if (!Arrays.asList(schema.fieldNames()).contains(column))
        {
            throw new IllegalArgumentException("no image column '" + column + "' for " + who + " (columns: "
                + String.join(", ", schema.fieldNames()) + ")");
        }
        final DataType type = schema.apply(column).dataType();
        if (!type.equals(DataTypes.BinaryType) && !type.equals(DataTypes.StringType) && !ImageStruct.is(type))
        {
            throw new IllegalArgumentException("image column '" + column + "' has type " + type.simpleString()
                + "; " + who + " needs binary (encoded JPEG/PNG bytes), string (a path on a Hadoop file system) or Spark's "
                + "image struct");
        }
        return type;
    }

    /** Broadcast models deserialized in this JVM so far (one per broadcast, however many tasks score with it). */
    public static long modelsLoadedInThisJvm()
    {
        return ExecutorModels.loads();
    }

    /** {@code input} with the three columns this predictor appends, in this order. */
    public static StructType outputSchema(final StructType input, final String predictionColumn,
        final String classColumn, final String probabilityColumn, final DataType probabilityType)
    {
        for (final String column : List.of(predictionColumn, classColumn, probabilityColumn))
        {
            if (Arrays.asList(input.fieldNames()).contains(column))
            {
                throw new IllegalArgumentException("output column '" + column + "' already exists in the input");
            }
        }
        return input.add(predictionColumn, DataTypes.DoubleType, true).add(classColumn, DataTypes.StringType, true)
            .add(probabilityColumn, probabilityType, true);
    }

    @Override
    public Iterator<Row> call(final Iterator<Row> rows)
    {
        final ExecutorModels.Loaded loaded = ExecutorModels.get(model, configText);
        return new Iterator<>()
        {
            private final Configuration hadoop = HadoopConf.fresh();
            private Iterator<Row> batch = java.util.Collections.emptyIterator();

            @Override
            public boolean hasNext()
            {
                if (!batch.hasNext() && rows.hasNext())
                {
                    batch = score(loaded, hadoop, rows).iterator();
                }
                return batch.hasNext();
            }

            @Override
            public Row next()
            {
                if (!hasNext())
                {
                    throw new NoSuchElementException();
                }
                return batch.next();
            }
        };
    }

    /** Scores the next batch of rows. */
    private List<Row> score(final ExecutorModels.Loaded loaded, final Configuration hadoop, final Iterator<Row> rows)
    {
        final List<Row> inputs = new ArrayList<>(batchSize);
        while (inputs.size() < batchSize && rows.hasNext())
        {
            inputs.add(rows.next());
        }
        final int length = loaded.transform().sampleLength();
        final int size = loaded.transform().outputSize();
        final float[] features = new float[inputs.size() * length];
        final int[] slot = new int[inputs.size()];
        int decoded = 0;
        for (int i = 0; i < inputs.size(); i++)
        {
            final RgbImage image = decode(loaded, hadoop, inputs.get(i));
            slot[i] = image == null ? -1 : decoded;
            if (image != null)
            {
                loaded.transform().apply(image, 0, 0, features, decoded++ * length);
            }
        }
        final float[] p = decoded == 0 ? new float[0]
            : loaded.output(Nd4j.create(Arrays.copyOf(features, decoded * length), new long[] {decoded, 3, size, size},
            'c'));
        final int k = decoded == 0 ? 0 : p.length / decoded;
        final List<Row> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++)
        {
            final Row row = inputs.get(i);
            final Object[] values = new Object[row.length() + 3];
            for (int c = 0; c < row.length(); c++)
            {
                values[c] = row.get(c);
            }
            if (slot[i] >= 0)
            {
                final double[] probabilities = new double[k];
                int best = 0;
                for (int c = 0; c < k; c++)
                {
                    probabilities[c] = p[slot[i] * k + c];
                    best = probabilities[c] > probabilities[best] ? c : best;
                }
                values[row.length()] = (double)best;
                values[row.length() + 1] = best < classes.size() ? classes.get(best) : Integer.toString(best);
                values[row.length() + 2] = encoder.encode(probabilities);
            }
            else
            {
                undecodable.add(1);
            }
            out.add(RowFactory.create(values));
        }
        scored.add(inputs.size());
        return out;
    }

    /** The row's image, or null when it is null, cannot be read or does not decode. */
    private RgbImage decode(final ExecutorModels.Loaded loaded, final Configuration hadoop, final Row row)
    {
        if (row.isNullAt(imageIndex))
        {
            return null;
        }
        try
        {
            return loaded.decoder().decode(encoded(row, hadoop));
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
    }

    private byte[] encoded(final Row row, final Configuration hadoop) throws IOException
    {
        if (imageType.equals(DataTypes.StringType))
        {
            return read(row.getString(imageIndex), hadoop);
        }
        return imageType.equals(DataTypes.BinaryType) ? (byte[])row.get(imageIndex) :
            ImageStruct.png(row.getStruct(imageIndex));
    }

    private static byte[] read(final String location, final Configuration hadoop) throws IOException
    {
        final Path path = new Path(location);
        final FileSystem fs = path.getFileSystem(hadoop);
        try (FSDataInputStream in = fs.open(path))
        {
            return in.readAllBytes();
        }
    }
}
