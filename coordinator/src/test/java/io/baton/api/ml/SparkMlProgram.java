package io.baton.api.ml;

import io.baton.api.Baton;
import io.baton.api.UserCnn;
import io.baton.coordinator.demo.DemoImages;
import io.baton.coordinator.predict.ImagePredictor;
import io.baton.trainer.export.ModelClasses;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A user's program for {@link SparkMlClusterTest}: a saved {@link BatonClassificationModel} (an untrained small CNN;
 * what is checked is inference, not learning) loaded and applied to a DataFrame of image bytes, first on
 * {@code local[1]}, then on the master given (two executor JVMs). Prints {@code MAXDIFF} (largest probability
 * difference between the two), {@code ROWS}, and {@code LOADS} (per executor, how many models its JVM deserialized).
 */
public final class SparkMlProgram
{
    private SparkMlProgram()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String master = args[0];
        final Path work = Path.of(args[1]);
        final Path images = work.resolve("images");
        DemoImages.write(images, 5, 3, 4, 1, 16);
        final List<Row> rows = new ArrayList<>();
        try (Stream<Path> files = Files.walk(images))
        {
            for (final Path file : files.filter(Files::isRegularFile).sorted().toList())
            {
                rows.add(RowFactory.create(images.relativize(file).toString(), Files.readAllBytes(file)));
            }
        }
        final StructType schema = new StructType().add("name", DataTypes.StringType)
            .add("image", DataTypes.BinaryType);
        final ComputationGraph graph = new ComputationGraph(UserCnn.configuration(16, 3));
        graph.init();
        final ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelClasses.writeModel(graph, false, List.of("a", "b", "c"), zip);
        final String saved = work.resolve("model").toUri().toString();

        final Map<String, double[]> local = new HashMap<>();
        SparkSession spark = session("local[1]");
        new BatonClassificationModel("program", zip.toByteArray(), List.of("a", "b", "c"), "data.image-size = 16", 0)
            .write().overwrite().save(saved);
        for (final Row row : BatonClassificationModel.load(saved).transform(spark.createDataFrame(rows, schema))
            .collectAsList())
        {
            local.put(row.getAs("name"), row.<Vector>getAs("probability").toArray());
        }
        spark.stop();

        spark = session(master);
        final BatonClassificationModel model = BatonClassificationModel.load(saved);
        final Dataset<Row> table = spark.createDataFrame(rows, schema).repartition(4);
        model.transform(table).count();
        double max = 0;
        final List<Row> scored = model.transform(table).collectAsList();
        for (final Row row : scored)
        {
            final double[] p = row.<Vector>getAs("probability").toArray();
            final double[] q = local.get(row.<String>getAs("name"));
            for (int c = 0; c < p.length; c++)
            {
                max = Math.max(max, Math.abs(p[c] - q[c]));
            }
        }
        final TreeSet<String> loads = new TreeSet<>(spark.range(0, 16, 1, 16).javaRDD()
            .map(i -> SparkEnv.get().executorId() + "=" + ImagePredictor.modelsLoadedInThisJvm()).collect());
        System.out.println("MAXDIFF " + max + " ROWS " + scored.size() + " LOADS " + String.join(",", loads));
        System.out.println("EXECUTORS " + Arrays.toString(spark.sparkContext().getExecutorIds().toList()
            .mkString(",").split(",")));
        spark.stop();
    }

    private static SparkSession session(final String master)
    {
        return SparkSession.builder().config(Baton.sparkConf(new SparkConf().setMaster(master)
            .setAppName("spark-ml-program").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false"))).getOrCreate();
    }
}
