package io.baton.coordinator.cli;

import io.baton.coordinator.demo.DemoImages;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code baton predict} on a trained run: a prepared split gives one row per sample, whose top-1 against the split's
 * labels is {@code baton evaluate}'s; Parquet and CSV outputs; a folder tree of images.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PredictCommandTest
{
    private static final List<String> SETTINGS = List.of("model.arch=resnet20", "data.image-size=16",
        "train.global-batch=8", "train.replicas=2", "train.epochs=2", "optim.base-lr=0.05", "optim.base-batch=8",
        "optim.warmup-epochs=0.5", "optim.decay-epochs=[1]", "collective.host=127.0.0.1", "collective.timeout=8s",
        "progress.interval=60s", "cluster.master=\"local[2]\"", "cluster.slot-wait=0s");
    private static final Pattern EVALUATED = Pattern.compile("top1=([0-9.]+) top5=[0-9.]+ samples=(\\d+)");
    private static final Pattern PREDICTED = Pattern.compile("rows=(\\d+) undecodable=(\\d+)(?: top1=([0-9.]+))?");

    @TempDir
    static Path dir;
    private Path tree;
    private Path prepared;
    private Path run;

    private static Matcher ok(final CliRun run, final Pattern pattern)
    {
        assertEquals(0, run.code(), run.err() + run.out());
        final Matcher m = pattern.matcher(run.out());
        assertTrue(m.find(), run.out());
        return m;
    }

    @BeforeAll
    void prepareAndTrain()
    {
        tree = dir.resolve("images");
        DemoImages.write(tree, 5, 3, 8, 4, 16);
        prepared = dir.resolve("prepared");
        assertEquals(0, CliRun.of("prepare", tree.toString(), prepared.toString(), "--set",
            "cluster.master=\"local[2]\"").code());
        run = dir.resolve("run");
        final List<String> train = new ArrayList<>(List.of("train", "--data", prepared.toString(), "--run-dir",
            run.toString()));
        SETTINGS.forEach(s -> train.addAll(List.of("--set", s)));
        final CliRun trained = CliRun.of(train.toArray(String[]::new));
        assertEquals(0, trained.code(), trained.err() + trained.out());
    }

    @Test
    void predictionsOfAPreparedSplitAreOneRowPerSampleWithEvaluatesTopOneInParquetAndCsv() throws Exception
    {
        final Matcher evaluated = ok(CliRun.of("evaluate", "--model", run.toString()), EVALUATED);
        final Path parquet = dir.resolve("val.parquet");
        final CliRun predicted = CliRun.of("predict", "--model", run.toString(), "--input", prepared.toString(), "-o",
            parquet.toString());
        final Matcher p = ok(predicted, PREDICTED);
        assertEquals(evaluated.group(2), p.group(1), "one row per validation sample");
        assertEquals("0", p.group(2));
        assertEquals(evaluated.group(1), p.group(3), "top-1 of predict against the split's labels vs evaluate");

        final Path csv = dir.resolve("val.csv");
        final Matcher c = ok(CliRun.of("predict", "--model", run.toString(), "--input", prepared.toString(), "-o",
            csv.toString()), PREDICTED);
        assertEquals(evaluated.group(1), c.group(3));
        final List<String> lines = Files.readAllLines(csv);
        assertEquals(13, lines.size(), "a header and 12 rows");
        assertEquals("name,label,class,index,probability,p_n00000000,p_n00000001,p_n00000002", lines.get(0));

        final CliRun again = CliRun.of("predict", "--model", run.toString(), "--input", prepared.toString(), "-o",
            csv.toString());
        assertEquals(BatonCli.EXIT_USAGE, again.code(), again.err());
        assertTrue(again.err().contains("exists; give --overwrite to replace it"), again.err());

        final SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
            .getOrCreate();
        try
        {
            final List<Row> rows = spark.read().parquet(parquet.toString()).orderBy("name").collectAsList();
            assertEquals(12, rows.size());
            long correct = 0;
            for (final Row row : rows)
            {
                final List<Double> probabilities = row.getList(row.fieldIndex("probabilities"));
                assertEquals(3, probabilities.size());
                final int index = row.getAs("index");
                assertEquals(probabilities.get(index), row.<Double>getAs("probability"));
                assertEquals("n0000000" + index, row.getAs("class"));
                correct += row.getAs("label").equals(row.getAs("class")) ? 1 : 0;
            }
            assertEquals(Double.parseDouble(evaluated.group(1)), correct / 12.0, 1e-6);
        }
        finally
        {
            spark.stop();
        }
    }

    @Test
    void aFolderTreeOfImagesIsPredictedOneRowPerImageFile() throws Exception
    {
        final Path csv = dir.resolve("tree.csv");
        final Matcher p = ok(CliRun.of("predict", "--model", run.toString(), "--input", tree.resolve("val").toString(),
            "-o", csv.toString()), PREDICTED);
        assertEquals("12", p.group(1));
        assertEquals(null, p.group(3), "a tree has no labels to score against");
        final List<String> lines = Files.readAllLines(csv);
        assertEquals(13, lines.size());
        assertTrue(lines.get(0).startsWith("name,class,index,probability,p_n00000000"), lines.get(0));
        assertTrue(lines.get(1).contains("/val/n0000000"), lines.get(1));
    }

    @Test
    void aParquetTableOfImageBytesIsPredictedWithTheNamesOfItsNameColumn() throws Exception
    {
        final Path table = dir.resolve("table.parquet");
        final SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
            .getOrCreate();
        try
        {
            spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(tree.resolve("val").toString())
                .selectExpr("path AS id", "content AS picture").write().parquet(table.toString());
        }
        finally
        {
            spark.stop();
        }
        final Path csv = dir.resolve("table.csv");
        final Matcher p = ok(CliRun.of("predict", "--model", run.toString(), "--input", table.toString(), "--image-col",
            "picture", "--name-col", "id", "-o", csv.toString()), PREDICTED);
        assertEquals("12", p.group(1));
        assertEquals("0", p.group(2));
        final List<String> lines = Files.readAllLines(csv);
        assertEquals(13, lines.size());
        assertTrue(lines.get(1).contains("/val/n0000000"), lines.get(1));
        final CliRun wrong = CliRun.of("predict", "--model", run.toString(), "--input", table.toString(), "--image-col",
            "id", "--name-col", "picture", "-o", dir.resolve("wrong.csv").toString());
        assertEquals(0, wrong.code(), "a string column is read as paths: " + wrong.err());
        final CliRun missing = CliRun.of("predict", "--model", run.toString(), "--input", table.toString(), "-o",
            dir.resolve("missing.csv").toString());
        assertEquals(BatonCli.EXIT_USAGE, missing.code(), missing.err());
        assertTrue(missing.err().contains("no image column 'image' for predict (columns: id, picture)"), missing.err());
    }
}
