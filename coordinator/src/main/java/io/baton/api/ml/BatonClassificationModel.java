package io.baton.api.ml;

import io.baton.coordinator.predict.ImagePredictor;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A trained Baton network as a Spark ML model: {@code transform} scores a DataFrame's image column (encoded bytes or
 * paths) distributed over its partitions and adds the predicted class index ({@code predictionCol}, double), the
 * class probabilities ({@code probabilityCol}, an ML vector) and the predicted class name
 * ({@code predictedClassCol}). The network is broadcast once per model and deserialized once per executor JVM; each
 * image is decoded and transformed exactly as {@code baton evaluate} does (the evaluation transform of the
 * configuration it was trained with). A row whose image is null, missing or undecodable gets nulls in the three
 * columns and is counted ({@link #undecodableRows()}).
 *
 * <p>Saved and loaded with Spark ML's persistence (also inside a {@code PipelineModel}): the params as Spark's
 * metadata, and under {@code data/} the network as a plain DL4J model zip with its class names ({@code model.zip})
 * and the run's configuration ({@code run.conf}).
 */
public final class BatonClassificationModel extends Model<BatonClassificationModel> implements MLWritable
{
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final byte[] modelZip;
    private final List<String> classes;
    private final String runConfig;
    private final long skippedRows;
    private final Param<String> imageCol;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictedClassCol;
    private final IntParam inferenceBatchSize;
    private transient Broadcast<byte[]> broadcast;
    private transient org.apache.spark.SparkContext broadcastContext;
    private transient ComputationGraph network;
    private transient LongAccumulator undecodable;

    /**
     * @param modelZip    the trained network, a DL4J model zip (with its class names).
     * @param classes     class names, index = output.
     * @param runConfig   the configuration it was trained with (image size, evaluation transform, decoder).
     * @param skippedRows rows that fit skipped (null label or image, undecodable); 0 for a loaded model.
     */
    public BatonClassificationModel(final String uid, final byte[] modelZip, final List<String> classes,
        final String runConfig, final long skippedRows)
    {
        this.uid = uid;
        this.modelZip = modelZip.clone();
        this.classes = List.copyOf(classes);
        this.runConfig = runConfig;
        this.skippedRows = skippedRows;
        imageCol = new Param<>(this, "imageCol", "image column: encoded JPEG/PNG bytes or a path");
        predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class index");
        probabilityCol = new Param<>(this, "probabilityCol", "output column of the class probabilities");
        predictedClassCol = new Param<>(this, "predictedClassCol", "output column of the predicted class name");
        inferenceBatchSize = new IntParam(this, "inferenceBatchSize", "rows scored per forward pass in transform",
            ParamValidators.gtEq(1));
        setDefault(imageCol, "image");
        setDefault(predictionCol, "prediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictedClassCol, "predictedClass");
        setDefault(inferenceBatchSize, 32);
    }

    @Override
    public String uid()
    {
        return uid;
    }

    public Param<String> imageCol()
    {
        return imageCol;
    }

    public Param<String> predictionCol()
    {
        return predictionCol;
    }

    public Param<String> probabilityCol()
    {
        return probabilityCol;
    }

    public Param<String> predictedClassCol()
    {
        return predictedClassCol;
    }

    public IntParam inferenceBatchSize()
    {
        return inferenceBatchSize;
    }

    public BatonClassificationModel setImageCol(final String value)
    {
        set(imageCol, value);
        return this;
    }

    public BatonClassificationModel setPredictionCol(final String value)
    {
        set(predictionCol, value);
        return this;
    }

    public BatonClassificationModel setProbabilityCol(final String value)
    {
        set(probabilityCol, value);
        return this;
    }

    public BatonClassificationModel setPredictedClassCol(final String value)
    {
        set(predictedClassCol, value);
        return this;
    }

    public BatonClassificationModel setInferenceBatchSize(final int value)
    {
        set(inferenceBatchSize, value);
        return this;
    }

    /** Class names, index = output (a StringIndexer's labels when fit's label column came from one). */
    public List<String> classes()
    {
        return classes;
    }

    /** Rows fit skipped and counted (null label or image, undecodable image); 0 for a loaded model. */
    public long skippedRows()
    {
        return skippedRows;
    }

    /** Rows of the last {@link #transform}ed DataFrame whose image could not be read or decoded, so far computed. */
    public long undecodableRows()
    {
        return undecodable == null ? 0 : undecodable.value();
    }

    /** The trained network, plain DL4J in inference form (deserialized on first use). */
    public synchronized ComputationGraph network()
    {
        if (network == null)
        {
            try
            {
                network = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(modelZip), false);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot restore the model's network: " + ex.getMessage(), ex);
            }
        }
        return network;
    }

    /** The network as a DL4J model zip with its class names. */
    public byte[] modelZip()
    {
        return modelZip.clone();
    }

    /** The configuration the network was trained with. */
    public String runConfig()
    {
        return runConfig;
    }

    @Override
    public Dataset<Row> transform(final Dataset<?> dataset)
    {
        final StructType schema = transformSchema(dataset.schema(), true);
        final Dataset<Row> table = dataset.toDF();
        final SparkSession spark = table.sparkSession();
        final LongAccumulator scored = spark.sparkContext().longAccumulator("baton.transform.scored");
        undecodable = spark.sparkContext().longAccumulator("baton.transform.undecodable");
        final ImagePredictor predictor = new ImagePredictor(broadcast(spark), runConfig, classes, table.schema(),
            getOrDefault(imageCol), (Integer)getOrDefault(inferenceBatchSize), Vectors::dense, scored, undecodable);
        final JavaRDD<Row> rows = table.toJavaRDD().mapPartitions(predictor);
        return spark.createDataFrame(rows, schema);
    }

    /** The model bytes broadcast once per model and Spark context. */
    private synchronized Broadcast<byte[]> broadcast(final SparkSession spark)
    {
        if (broadcast == null || broadcastContext != spark.sparkContext())
        {
            broadcastContext = spark.sparkContext();
            broadcast = JavaSparkContext.fromSparkContext(broadcastContext).broadcast(modelZip);
        }
        return broadcast;
    }

    @Override
    public StructType transformSchema(final StructType schema)
    {
        return outputSchema(schema, getOrDefault(imageCol), getOrDefault(predictionCol),
            getOrDefault(predictedClassCol), getOrDefault(probabilityCol));
    }

    /** The input checked (its image column) with the three output columns appended. */
    static StructType outputSchema(final StructType schema, final String imageCol, final String predictionCol,
        final String predictedClassCol, final String probabilityCol)
    {
        ImagePredictor.requireImageColumn(schema, imageCol, "BatonClassifier");
        return ImagePredictor.outputSchema(schema, predictionCol, predictedClassCol, probabilityCol,
            SQLDataTypes.VectorType());
    }

    @Override
    public BatonClassificationModel copy(final ParamMap extra)
    {
        final BatonClassificationModel copy = new BatonClassificationModel(uid, modelZip, classes, runConfig,
            skippedRows);
        return copyValues(copy, extra).setParent(parent());
    }

    @Override
    public MLWriter write()
    {
        return new ClassificationModelIo.Writer(this);
    }

    public static MLReader<BatonClassificationModel> read()
    {
        return new ClassificationModelIo.Reader();
    }

    public static BatonClassificationModel load(final String path)
    {
        return read().load(path);
    }
}
