package io.baton.api.ml;

import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;

/**
 * Spark ML's estimator for Baton: {@code fit} prepares a DataFrame's image and label columns into Baton's indexed
 * shards ({@code Baton.prepare} of tables), trains with Baton's synchronous data-parallel training on the DataFrame's
 * own session ({@code Baton.train}) and returns a {@link BatonClassificationModel} holding the trained network and its
 * class names.
 *
 * <pre>{@code
 * Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
 *     new StringIndexer().setInputCol("species").setOutputCol("label"),
 *     new BatonClassifier().setImageCol("image").setLabelCol("label").setModel("resnet20").setImageSize(32)
 *         .setReplicas(2).setGlobalBatch(64).setEpochs(10).setWorkDir("hdfs:///work/flowers")});
 * PipelineModel fitted = pipeline.fit(train);
 * fitted.write().overwrite().save("hdfs:///models/flowers");
 * Dataset<Row> scored = PipelineModel.load("hdfs:///models/flowers").transform(test);
 * }</pre>
 *
 * <ul>
 *   <li>The image column holds encoded JPEG/PNG bytes ({@code binary}) or a path on any Hadoop file system
 *   ({@code string}).</li>
 *   <li>The label column holds class names ({@code string}: indexed in sorted order, as {@code baton prepare} does) or
 *   class indices (an integer type, or whole non-negative doubles such as {@code StringIndexer}'s output: used as
 *   given; the names of a {@code StringIndexer}'s labels become the model's class names).</li>
 *   <li>Rows with a null label or image, and images that do not decode, are skipped, counted and named, as
 *   {@code baton prepare} does (the counts are printed and kept in {@link BatonClassificationModel#skippedRows()});
 *   a column of another type is refused in one line naming it and its type.</li>
 *   <li>Rows whose {@code validationIndicatorCol} is true form the validation split (Baton's end-of-run top-1 is
 *   over them); without that column every row is in both splits.</li>
 *   <li>{@code workDir} holds the prepared data ({@code data/}) and the run ({@code run/}: checkpoints, metrics,
 *   {@code model.zip}); fitting again into it resumes or returns that run, and other data there is refused as changed
 *   data (use another folder).</li>
 *   <li>Baton settings left unset keep Baton's defaults ({@code baton config --reference}); {@code settings} takes
 *   any other key as HOCON text.</li>
 * </ul>
 */
public final class BatonClassifier extends Estimator<BatonClassificationModel> implements DefaultParamsWritable
{
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> imageCol;
    private final Param<String> labelCol;
    private final Param<String> predictionCol;
    private final Param<String> probabilityCol;
    private final Param<String> predictedClassCol;
    private final Param<String> validationIndicatorCol;
    private final Param<String> model;
    private final IntParam replicas;
    private final IntParam globalBatch;
    private final IntParam epochs;
    private final IntParam imageSize;
    private final LongParam seed;
    private final Param<String> workDir;
    private final Param<String> settings;
    private final IntParam inferenceBatchSize;

    public BatonClassifier()
    {
        this(Identifiable.randomUID("batonClassifier"));
    }

    public BatonClassifier(final String uid)
    {
        this.uid = uid;
        imageCol = new Param<>(this, "imageCol",
            "image column: encoded JPEG/PNG bytes, a path, or Spark's image struct");
        labelCol = new Param<>(this, "labelCol", "label column: class names, or class indices as given");
        predictionCol = new Param<>(this, "predictionCol", "output column of the predicted class index");
        probabilityCol = new Param<>(this, "probabilityCol", "output column of the class probabilities");
        predictedClassCol = new Param<>(this, "predictedClassCol", "output column of the predicted class name");
        validationIndicatorCol = new Param<>(this, "validationIndicatorCol",
            "boolean column: true = validation row; unset = every row is also validated");
        model = new Param<>(this, "model", "a zoo architecture (resnet20, resnet50, ...) or a DL4J model zip URI");
        replicas = new IntParam(this, "replicas", "train.replicas: replicas (one Spark task each)",
            ParamValidators.gtEq(1));
        globalBatch = new IntParam(this, "globalBatch", "train.global-batch: images per step over all replicas",
            ParamValidators.gtEq(1));
        epochs = new IntParam(this, "epochs", "train.epochs", ParamValidators.gtEq(1));
        imageSize = new IntParam(this, "imageSize", "data.image-size: side of the network's square input",
            ParamValidators.gtEq(1));
        seed = new LongParam(this, "seed", "train.seed: data order, augmentation and initialisation");
        workDir = new Param<>(this, "workDir", "where the prepared data (data/) and the run (run/) go; any "
            + "Hadoop FS URI");
        settings = new Param<>(this, "settings", "any other Baton key, as HOCON text (baton config --reference)");
        inferenceBatchSize = new IntParam(this, "inferenceBatchSize", "rows scored per forward pass in transform",
            ParamValidators.gtEq(1));
        setDefault(imageCol, "image");
        setDefault(labelCol, "label");
        setDefault(predictionCol, "prediction");
        setDefault(probabilityCol, "probability");
        setDefault(predictedClassCol, "predictedClass");
        setDefault(model, "resnet20");
        setDefault(settings, "");
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

    public Param<String> labelCol()
    {
        return labelCol;
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

    public Param<String> validationIndicatorCol()
    {
        return validationIndicatorCol;
    }

    public Param<String> model()
    {
        return model;
    }

    public IntParam replicas()
    {
        return replicas;
    }

    public IntParam globalBatch()
    {
        return globalBatch;
    }

    public IntParam epochs()
    {
        return epochs;
    }

    public IntParam imageSize()
    {
        return imageSize;
    }

    public LongParam seed()
    {
        return seed;
    }

    public Param<String> workDir()
    {
        return workDir;
    }

    public Param<String> settings()
    {
        return settings;
    }

    public IntParam inferenceBatchSize()
    {
        return inferenceBatchSize;
    }

    public BatonClassifier setImageCol(final String value)
    {
        return with(imageCol, value);
    }

    public BatonClassifier setLabelCol(final String value)
    {
        return with(labelCol, value);
    }

    public BatonClassifier setPredictionCol(final String value)
    {
        return with(predictionCol, value);
    }

    public BatonClassifier setProbabilityCol(final String value)
    {
        return with(probabilityCol, value);
    }

    public BatonClassifier setPredictedClassCol(final String value)
    {
        return with(predictedClassCol, value);
    }

    public BatonClassifier setValidationIndicatorCol(final String value)
    {
        return with(validationIndicatorCol, value);
    }

    public BatonClassifier setModel(final String value)
    {
        return with(model, value);
    }

    public BatonClassifier setReplicas(final int value)
    {
        return with(replicas, value);
    }

    public BatonClassifier setGlobalBatch(final int value)
    {
        return with(globalBatch, value);
    }

    public BatonClassifier setEpochs(final int value)
    {
        return with(epochs, value);
    }

    public BatonClassifier setImageSize(final int value)
    {
        return with(imageSize, value);
    }

    public BatonClassifier setSeed(final long value)
    {
        return with(seed, value);
    }

    public BatonClassifier setWorkDir(final String value)
    {
        return with(workDir, value);
    }

    public BatonClassifier setSettings(final String hocon)
    {
        return with(settings, hocon);
    }

    public BatonClassifier setInferenceBatchSize(final int value)
    {
        return with(inferenceBatchSize, value);
    }

    /** A parameter's value, or its default; null when neither is set. */
    @SuppressWarnings("unchecked")
    <T> T value(final Param<?> param)
    {
        return isDefined(param) ? (T)getOrDefault(param) : null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private BatonClassifier with(final Param param, final Object value)
    {
        set(param, value);
        return this;
    }

    @Override
    public BatonClassificationModel fit(final Dataset<?> dataset)
    {
        transformSchema(dataset.schema(), true);
        return copyValues(ClassifierFit.fit(this, dataset), extractParamMap()).setParent(this);
    }

    @Override
    public StructType transformSchema(final StructType schema)
    {
        LabelColumn.check(schema, value(labelCol));
        return BatonClassificationModel.outputSchema(schema, value(imageCol), value(predictionCol),
            value(predictedClassCol), value(probabilityCol));
    }

    @Override
    public BatonClassifier copy(final ParamMap extra)
    {
        return defaultCopy(extra);
    }

    public static MLReader<BatonClassifier> read()
    {
        return new DefaultParamsReader<>();
    }

    public static BatonClassifier load(final String path)
    {
        return read().load(path);
    }
}
