package io.baton.api.ml;

import io.baton.api.Baton;
import io.baton.api.Settings;
import io.baton.api.UserCnn;
import io.baton.coordinator.demo.DemoImages;
import io.baton.coordinator.prepare.ImageStruct;
import io.baton.trainer.run.Evaluator;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Spark ML pipeline (a StringIndexer, then BatonClassifier on a small CNN with 2 replicas) fits on a DataFrame of
 * image bytes, saves, loads and transforms; its top-1 on the validation rows is Baton's own evaluation of the same
 * prepared split; bad input is refused in one line or counted.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatonClassifierTest
{
    static final StructType SCHEMA = new StructType().add("name", DataTypes.StringType)
        .add("species", DataTypes.StringType).add("image", DataTypes.BinaryType)
        .add("isVal", DataTypes.BooleanType);
    static final String SETTINGS = String.join("\n", "optim.base-lr = 0.05", "optim.base-batch = 8",
        "optim.warmup-epochs = 0.5", "optim.decay-epochs = [1]", "collective.host = \"127.0.0.1\"",
        "collective.timeout = 8s", "progress.interval = 60s", "cluster.slot-wait = 0s", "recovery.backoff = 0s");

    @TempDir
    static Path work;
    private SparkSession spark;
    private Dataset<Row> images;
    private PipelineModel fitted;

    @BeforeAll
    void fitOnce() throws IOException
    {
        spark = SparkSession.builder().config(Baton.sparkConf(new SparkConf().setMaster("local[2]")
            .setAppName("BatonClassifierTest").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false"))).getOrCreate();
        images = imageTable(work.resolve("images"));
        final Path cnn = work.resolve("cnn.zip");
        final ComputationGraph graph = new ComputationGraph(UserCnn.configuration(16, 3));
        graph.init();
        ModelSerializer.writeModel(graph, cnn.toFile(), false);
        // A training row whose bytes are no image: skipped and counted, never trained on.
        final Dataset<Row> train = images.union(spark.createDataFrame(List.of(
            RowFactory.create("garbage", "n00000001", new byte[] {1, 2, 3, 4}, false)), SCHEMA));
        fitted = new Pipeline().setStages(new PipelineStage[] {
            new StringIndexer().setInputCol("species").setOutputCol("label"),
            new BatonClassifier().setImageCol("image").setLabelCol("label").setValidationIndicatorCol("isVal")
                .setModel(cnn.toString()).setReplicas(2).setGlobalBatch(8).setEpochs(2).setImageSize(16).setSeed(7)
                .setWorkDir(work.resolve("fit").toString()).setSettings(SETTINGS)}).fit(train);
    }

    @AfterAll
    void stop()
    {
        spark.stop();
    }

    /** DemoImages' tree (3 classes, 8 train and 4 val images each, 16x16) as a table of bytes. */
    private Dataset<Row> imageTable(final Path root) throws IOException
    {
        DemoImages.write(root, 5, 3, 8, 4, 16);
        final List<Row> rows = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root))
        {
            for (final Path file : files.filter(Files::isRegularFile).sorted().toList())
            {
                final String relative = root.relativize(file).toString();
                rows.add(RowFactory.create(relative, file.getParent().getFileName().toString(),
                    Files.readAllBytes(file), relative.startsWith("val/")));
            }
        }
        return spark.createDataFrame(rows, SCHEMA).repartition(3);
    }

    private BatonClassificationModel classifier(final PipelineModel pipeline)
    {
        return (BatonClassificationModel)pipeline.stages()[1];
    }

    private List<Row> scoredValidation(final PipelineModel pipeline)
    {
        return pipeline.transform(images.filter("isVal")).orderBy("name").collectAsList();
    }

    @Test
    void topOneOfTransformOnValidationRowsEqualsBatonEvaluateOnThePreparedSplit()
    {
        final List<Row> scored = scoredValidation(fitted);
        assertEquals(12, scored.size());
        long correct = 0;
        for (final Row row : scored)
        {
            correct += row.<Double>getAs("label").equals(row.<Double>getAs("prediction")) ? 1 : 0;
        }
        final Evaluator.Result evaluated = Baton.on(spark).progressTo(new PrintWriter(new StringWriter()))
            .evaluate(work.resolve("fit").resolve("run").toString(), Settings.hocon(SETTINGS));
        assertEquals(12, evaluated.samples());
        assertEquals(evaluated.top1Correct(), correct, "rows predicted right by transform vs baton evaluate");
        assertTrue(correct > 4, "it learned something: " + correct + " of 12");
    }

    @Test
    void predictedClassNamesAreTheStringIndexersLabels()
    {
        final String[] labels = ((StringIndexerModel)fitted.stages()[0]).labelsArray()[0];
        final BatonClassificationModel model = classifier(fitted);
        assertEquals(Arrays.asList(labels).subList(0, 3), model.classes());
        for (final Row row : scoredValidation(fitted))
        {
            final int predicted = (int)(double)row.<Double>getAs("prediction");
            assertEquals(labels[predicted], row.getAs("predictedClass"));
            final Vector p = row.getAs("probability");
            assertEquals(3, p.size());
            assertEquals(predicted, p.argmax());
            assertEquals(1.0, Arrays.stream(p.toArray()).sum(), 1e-5);
        }
    }

    @Test
    void aSavedAndLoadedPipelineGivesTheSameProbabilities() throws IOException
    {
        final String saved = work.resolve("saved-pipeline").toString();
        fitted.write().overwrite().save(saved);
        final PipelineModel loaded = PipelineModel.load(saved);
        assertEquals(classifier(fitted).classes(), classifier(loaded).classes());
        assertEquals(classifier(fitted).uid(), classifier(loaded).uid());
        final List<Row> before = scoredValidation(fitted);
        final List<Row> after = scoredValidation(loaded);
        for (int i = 0; i < before.size(); i++)
        {
            assertArrayEquals(before.get(i).<Vector>getAs("probability").toArray(),
                after.get(i).<Vector>getAs("probability").toArray(), before.get(i).<String>getAs("name"));
        }
        final BatonClassifier unfitted = new BatonClassifier().setReplicas(3).setWorkDir("/somewhere");
        unfitted.write().overwrite().save(work.resolve("saved-estimator").toString());
        final BatonClassifier reloaded = BatonClassifier.load(work.resolve("saved-estimator").toString());
        assertEquals(3, (int)reloaded.getOrDefault(reloaded.replicas()));
        assertTrue(reloaded.explainParams().contains("replicas: train.replicas"));
    }

    @Test
    void aTrainingRowWithUndecodableBytesIsSkippedAndCountedByFit()
    {
        assertEquals(1, classifier(fitted).skippedRows());
    }

    @Test
    void stringLabelsAreIndexedInSortedOrderAndANullLabelIsSkippedAndCounted()
    {
        final Dataset<Row> withNull = images.union(spark.createDataFrame(List.<Row>of(
            RowFactory.create("unlabelled", null, images.first().getAs("image"), false)), SCHEMA));
        final BatonClassificationModel model = new BatonClassifier().setLabelCol("species")
            .setValidationIndicatorCol("isVal").setModel(work.resolve("cnn.zip").toString()).setReplicas(2)
            .setGlobalBatch(8).setEpochs(1).setImageSize(16).setWorkDir(work.resolve("strings").toString())
            .setSettings(SETTINGS + "\noptim.decay-epochs = []").fit(withNull);
        assertEquals(List.of("n00000000", "n00000001", "n00000002"), model.classes());
        assertEquals(1, model.skippedRows());
        final Row row = model.transform(images.filter("isVal").limit(1)).first();
        assertEquals(model.classes().get((int)(double)row.<Double>getAs("prediction")), row.getAs("predictedClass"));
    }

    @Test
    void undecodableAndNullImagesGetNullPredictionsAndAreCounted()
    {
        final BatonClassificationModel model = classifier(fitted);
        final Dataset<Row> bad = spark.createDataFrame(List.of(
            RowFactory.create("garbage", "n00000001", new byte[] {9, 9, 9}, true),
            RowFactory.create("empty", "n00000001", new byte[0], true),
            RowFactory.create("null", "n00000001", null, true)), SCHEMA).union(images.filter("isVal"));
        final List<Row> scored = model.transform(bad).collectAsList();
        assertEquals(15, scored.size());
        long nulls = 0;
        for (final Row row : scored)
        {
            final boolean broken = List.of("garbage", "empty", "null").contains(row.<String>getAs("name"));
            if (broken)
            {
                assertNull(row.getAs("prediction"));
                assertNull(row.getAs("probability"));
                assertNull(row.getAs("predictedClass"));
                nulls++;
            }
            else
            {
                assertNotNull(row.getAs("prediction"));
            }
        }
        assertEquals(3, nulls);
        assertEquals(3, model.undecodableRows());
    }

    @Test
    void aColumnOfTheWrongTypeIsRefusedInOneLineNamingItAndItsType()
    {
        final Dataset<Row> ints = images.withColumn("image", images.col("isVal").cast(DataTypes.IntegerType));
        final IllegalArgumentException image = assertThrows(IllegalArgumentException.class,
            () -> new BatonClassifier().setLabelCol("species").setWorkDir(work.resolve("x").toString()).fit(ints));
        assertEquals("image column 'image' has type int; BatonClassifier needs binary (encoded JPEG/PNG bytes), "
            + "string (a path on a Hadoop file system) or Spark's image struct", image.getMessage());
        final IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
            () -> new BatonClassifier().setLabelCol("isVal").fit(images));
        assertTrue(label.getMessage().startsWith("label column 'isVal' has type boolean;"), label.getMessage());
        final IllegalArgumentException transform = assertThrows(IllegalArgumentException.class,
            () -> classifier(fitted).transform(ints));
        assertTrue(transform.getMessage().startsWith("image column 'image' has type int"), transform.getMessage());
    }

    @Test
    void aLabelThatIsNotAWholeClassIndexIsRefusedNamingTheValue()
    {
        final Dataset<Row> fractional = images.withColumn("label", org.apache.spark.sql.functions.when(
            images.col("name").endsWith("000001.JPEG"), 1.5).otherwise(1.0));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new BatonClassifier().setWorkDir(work.resolve("y").toString()).fit(fractional));
        assertTrue(ex.getMessage().startsWith("label column 'label' holds 1.5;"), ex.getMessage());
    }

    @Test
    void aColumnOfPathsScoresLikeTheBytesOfTheSameFiles()
    {
        final String root = work.resolve("images").toUri().toString();
        final Dataset<Row> val = images.filter("isVal");
        final Dataset<Row> paths = val.withColumn("image", org.apache.spark.sql.functions.concat(
            org.apache.spark.sql.functions.lit(root), val.col("name")));
        final BatonClassificationModel model = classifier(fitted);
        final List<Row> fromBytes = model.transform(val).orderBy("name").collectAsList();
        final List<Row> fromPaths = model.transform(paths).orderBy("name").collectAsList();
        assertEquals(12, fromPaths.size());
        for (int i = 0; i < fromBytes.size(); i++)
        {
            assertArrayEquals(fromBytes.get(i).<Vector>getAs("probability").toArray(),
                fromPaths.get(i).<Vector>getAs("probability").toArray(), fromPaths.get(i).<String>getAs("image"));
        }
        assertEquals(0, model.undecodableRows());
    }

    @Test
    void sparksImageStructColumnScoresLikeTheBytesOfTheSameFiles()
    {
        final Dataset<Row> val = images.filter("isVal");
        final Dataset<Row> structs = spark.read().format("image").option("recursiveFileLookup", "true")
            .load(work.resolve("images").resolve("val").toString());
        assertTrue(ImageStruct.is(structs.schema().apply("image").dataType()), structs.schema().treeString());
        final BatonClassificationModel model = classifier(fitted);
        final Map<String, double[]> fromBytes = new HashMap<>();
        for (final Row row : model.transform(val).collectAsList())
        {
            final String name = row.getAs("name");
            fromBytes.put(classAndFile(name), row.<Vector>getAs("probability").toArray());
        }
        final List<Row> fromStructs = model.transform(structs).collectAsList();
        assertEquals(12, fromStructs.size());
        for (final Row row : fromStructs)
        {
            final String origin = row.getStruct(row.fieldIndex("image")).getAs("origin");
            final double[] expected = fromBytes.get(classAndFile(origin));
            assertNotNull(expected, origin);
            // Spark's image source decodes with the JDK reader, whose pixels the turbo decoder reproduces exactly.
            assertArrayEquals(expected, row.<Vector>getAs("probability").toArray(), 1e-6, origin);
        }
        assertEquals(0, model.undecodableRows());
    }

    private static String classAndFile(final String path)
    {
        final String[] parts = path.split("/");
        return parts[parts.length - 2] + "/" + parts[parts.length - 1];
    }

    @Test
    void theNetworkIsDeserializedOncePerJvmForAllTasksAndTransformsOfAModel()
    {
        final BatonClassificationModel model = classifier(fitted).copy(new org.apache.spark.ml.param.ParamMap());
        final long before = io.baton.coordinator.predict.ImagePredictor.modelsLoadedInThisJvm();
        final Dataset<Row> val = images.filter("isVal").repartition(4);
        assertEquals(12, model.transform(val).filter("prediction IS NOT NULL").count());
        assertEquals(12, model.transform(val).filter("prediction IS NOT NULL").count());
        assertEquals(before + 1, io.baton.coordinator.predict.ImagePredictor.modelsLoadedInThisJvm(),
            "4 partitions, 2 transforms, one executor JVM (local[2]): one deserialization");
    }
}
