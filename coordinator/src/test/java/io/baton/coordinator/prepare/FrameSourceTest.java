package io.baton.coordinator.prepare;

import io.baton.api.Baton;
import io.baton.api.Settings;
import io.baton.coordinator.cli.BatonCli;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardRecord;
import io.baton.trainer.data.shard.ShardedDataset;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tables as prepare's input (a DataFrame built here, Parquet and ORC files, a column of paths, Spark's binaryFile
 * source) prepare to the samples of the same images as an {@link ImageNetTree}; bad tables are refused in one line
 * or their bad rows counted and named.
 */
class FrameSourceTest
{
    private static final StructType SCHEMA = new StructType()
        .add("name", DataTypes.StringType)
        .add("label", DataTypes.StringType)
        .add("image", DataTypes.BinaryType)
        .add("path", DataTypes.StringType)
        .add("split", DataTypes.StringType);
    private static SparkSession spark;

    private static SparkSession spark()
    {
        if (spark == null)
        {
            // Kryo with registration required, as on the contexts Baton creates: every class prepare's table jobs
            // shuffle or collect (rows, image structs, Spark SQL types) must be registered.
            spark = SparkSession.builder().config(Baton.sparkConf(new SparkConf().setMaster("local[2]")
                .setAppName("FrameSourceTest").set("spark.ui.enabled", "false")
                .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrationRequired", "true"))).getOrCreate();
            assertEquals("true", spark.sparkContext().getConf().get("spark.kryo.registrationRequired", "false"),
                "FrameSourceTest needs its own session, not one another test left running");
        }
        return spark;
    }

    @AfterAll
    static void stopSpark()
    {
        if (spark != null)
        {
            spark.stop();
            spark = null;
        }
    }

    private static Path tmp(final String name) throws IOException
    {
        final Path base = Path.of(System.getProperty("baton.test.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name);
    }

    private static PrepareOptions options(final Path in, final Path out)
    {
        return new PrepareOptions(in.toUri(), out.toUri(), List.of("train", "val"), null, null, "local[2]", 30_000,
            0, 90, true, false);
    }

    private static Manifest prepareTree(final ImageNetTree tree, final Path out) throws IOException
    {
        return new PrepareJob(options(tree.root, out), new PrintWriter(new StringWriter(), true))
            .run(JavaSparkContext.fromSparkContext(spark().sparkContext()));
    }

    private static Manifest prepareTables(final Map<String, Dataset<Row>> tables, final FrameColumns columns,
        final Path out, final StringWriter console) throws IOException
    {
        return Baton.on(spark()).progressTo(new PrintWriter(console, true)).prepare(tables, columns, out.toString(),
            Settings.defaults().set("prepare.shard-size", 30_000), false);
    }

    /** One row per image-named file of the tree's split folders (the corrupt one too), in reverse order. */
    private static List<Row> rows(final ImageNetTree tree) throws IOException
    {
        final List<Row> rows = new ArrayList<>();
        for (final String split : List.of("train", "val"))
        {
            try (Stream<Path> files = Files.walk(tree.root.resolve(split)))
            {
                for (final Path file : files.filter(Files::isRegularFile)
                    .filter(f -> InputScanner.isImageName(f.getFileName().toString()))
                    .sorted(java.util.Comparator.reverseOrder()).toList())
                {
                    rows.add(RowFactory.create(tree.root.relativize(file).toString(),
                        file.getParent().getFileName().toString(), Files.readAllBytes(file), file.toUri().toString(),
                        split));
                }
            }
        }
        return rows;
    }

    private static Map<String, Dataset<Row>> bySplit(final Dataset<Row> all)
    {
        final Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        for (final String split : List.of("train", "val"))
        {
            tables.put(split, all.filter(all.col("split").equalTo(split)));
        }
        return tables;
    }

    /** Same manifest counts, skipped files and input bytes; byte-identical shards when {@code sameNames}. */
    private static void assertSameSplits(final Manifest tree, final Manifest table, final boolean sameNames)
    {
        assertEquals(tree.classes(), table.classes());
        for (final String split : List.of("train", "val"))
        {
            final Manifest.Split a = tree.splits().get(split);
            final Manifest.Split b = table.splits().get(split);
            assertEquals(a.count(), b.count(), split);
            assertEquals(a.perClass(), b.perClass(), split);
            assertEquals(a.inputBytes(), b.inputBytes(), split);
            assertEquals(a.skipped().stream().map(Manifest.SkippedFile::reason).toList(),
                b.skipped().stream().map(Manifest.SkippedFile::reason).toList(), split);
            if (sameNames)
            {
                assertEquals(a.skipped(), b.skipped(), split);
                assertEquals(a.shards(), b.shards(), split + ": byte-identical shards");
            }
        }
    }

    /** Sample i of both outputs has the same label and bytes (and path when {@code sameNames}). */
    private static void assertSameSamples(final Path tree, final Path table, final boolean sameNames, final Path dir)
        throws IOException
    {
        assertSameSamples(tree, table, sameNames, dir,
            (ra, rb) -> assertArrayEquals(ra.bytes(), rb.bytes(), ra.path() + " vs " + rb.path()));
    }

    /** What makes two records' images the same: equal bytes, or equal decoded pixels. */
    private interface SameImage
    {
        void check(ShardRecord tree, ShardRecord table) throws IOException;
    }

    /** Sample i of both outputs has the same label and image (and path when {@code sameNames}). */
    private static void assertSameSamples(final Path tree, final Path table, final boolean sameNames, final Path dir,
        final SameImage sameImage) throws IOException
    {
        for (final String split : List.of("train", "val"))
        {
            try (ShardedDataset a = ShardedDataset.open(tree.toUri(), split, dir.resolve("cache"));
                ShardedDataset b = ShardedDataset.open(table.toUri(), split, dir.resolve("cache")))
            {
                assertEquals(a.size(), b.size(), split);
                for (long id = 0; id < a.size(); id++)
                {
                    final ShardRecord ra = a.record(id);
                    final ShardRecord rb = b.record(id);
                    assertEquals(ra.label(), rb.label(), ra.path());
                    sameImage.check(ra, rb);
                    if (sameNames)
                    {
                        assertEquals(ra.path(), rb.path());
                    }
                    else
                    {
                        assertTrue(rb.path().endsWith(ra.path()), rb.path() + " names " + ra.path());
                    }
                }
            }
        }
    }

    @Test
    void shouldPrepareADataFrameAndOrcAndAPathColumnToTheSamplesOfTheTree() throws IOException
    {
        final Path dir = tmp("frame");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("tree"));
        final Manifest fromTree = prepareTree(tree, dir.resolve("out-tree"));
        final Dataset<Row> frame = spark().createDataFrame(rows(tree), SCHEMA);

        final StringWriter console = new StringWriter();
        final Manifest fromFrame = prepareTables(bySplit(frame), FrameColumns.of("image", "label").withName("name"),
            dir.resolve("out-frame"), console);
        assertSameSplits(fromTree, fromFrame, true);
        assertSameSamples(dir.resolve("out-tree"), dir.resolve("out-frame"), true, dir);
        assertEquals("table-bytes", fromFrame.splits().get("train").layout());
        assertTrue(console.toString().contains("skipped " + ImageNetTree.CORRUPT + ": "), console.toString());

        frame.write().orc(dir.resolve("images.orc").toString());
        final Manifest fromOrc = prepareTables(bySplit(spark().read().orc(dir.resolve("images.orc").toString())),
            FrameColumns.of("image", "label").withName("name"), dir.resolve("out-orc"), new StringWriter());
        assertSameSplits(fromTree, fromOrc, true);

        final Manifest fromPaths = prepareTables(bySplit(frame), FrameColumns.of("path", "label"),
            dir.resolve("out-paths"), new StringWriter());
        assertSameSplits(fromTree, fromPaths, false);
        assertSameSamples(dir.resolve("out-tree"), dir.resolve("out-paths"), false, dir);
        assertEquals("table-path", fromPaths.splits().get("val").layout());
    }

    @Test
    void shouldPrepareSparksBinaryFileSourceLabelledByFolderToTheSamplesOfTheTree() throws IOException
    {
        final Path dir = tmp("binary");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("tree"));
        final Manifest fromTree = prepareTree(tree, dir.resolve("out-tree"));
        final Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        for (final String split : List.of("train", "val"))
        {
            tables.put(split, spark().read().format("binaryFile").option("recursiveFileLookup", "true")
                .load(tree.root.resolve(split).toString()));
        }
        final StringWriter console = new StringWriter();
        final Manifest fromFiles = prepareTables(tables, FrameColumns.binaryFileTree(), dir.resolve("out-files"),
            console);
        assertSameSplits(fromTree, fromFiles, false);
        assertSameSamples(dir.resolve("out-tree"), dir.resolve("out-files"), false, dir);
        assertTrue(console.toString().contains("ignored 1 file(s) not named *.JPEG/.jpg/.jpeg/.png: ")
            && console.toString().contains("train/n02000002/notes.txt"), console.toString());
    }

    @Test
    void shouldPrepareSparksImageSourceLabelledByFolderToThePixelsOfTheTree() throws IOException
    {
        final Path dir = tmp("image");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("tree"));
        final Manifest fromTree = prepareTree(tree, dir.resolve("out-tree"));
        final Map<String, Dataset<Row>> tables = new LinkedHashMap<>();
        for (final String split : List.of("train", "val"))
        {
            tables.put(split, spark().read().format("image").option("recursiveFileLookup", "true")
                .load(tree.root.resolve(split).toString()));
        }
        final StringWriter console = new StringWriter();
        final Manifest fromImages = prepareTables(tables, new FrameColumns("image", null, null, true, false),
            dir.resolve("out-images"), console);
        assertEquals(fromTree.classes(), fromImages.classes());
        for (final String split : List.of("train", "val"))
        {
            assertEquals(fromTree.splits().get(split).perClass(), fromImages.splits().get(split).perClass(), split);
        }
        // The source's invalid rows (the corrupt JPEG, the text file) are skipped and named, not trained on.
        final List<String> skipped = fromImages.splits().get("train").skipped().stream()
            .map(Manifest.SkippedFile::path).toList();
        assertTrue(skipped.stream().anyMatch(path -> path.endsWith(ImageNetTree.CORRUPT)), skipped.toString());
        // Spark's image source decodes with the JDK reader and prepare stores the struct as a PNG: the same pixels.
        assertSameSamples(dir.resolve("out-tree"), dir.resolve("out-images"), false, dir,
            (ra, rb) -> assertArrayEquals(rgb(ra.bytes()), rgb(rb.bytes()), ra.path() + " vs " + rb.path()));
    }

    private static int[] rgb(final byte[] encoded) throws IOException
    {
        final BufferedImage image = ImageIO.read(new ByteArrayInputStream(encoded));
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }

    @Test
    void shouldPrepareAParquetFileFromTheCliLikeTheTree() throws IOException
    {
        final Path dir = tmp("cli");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("tree"));
        spark().createDataFrame(rows(tree), SCHEMA).write().parquet(dir.resolve("images.parquet").toString());
        stopSpark(); // the CLI makes its own Spark session
        final StringWriter err = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"prepare", tree.root.toString(), dir.resolve("out-tree").toString(),
            "--master", "local[2]", "--shard-size", "30000"}, new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true)), err.toString());
        final StringWriter out = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"prepare", dir.resolve("images.parquet").toString(),
            dir.resolve("out-table").toString(), "--master", "local[2]", "--shard-size", "30000", "--name-col",
            "name", "--split-col", "split"}, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().contains("samples=train:" + tree.train.size() + ",val:" + tree.val.size()),
            out.toString());
        final Manifest fromTree = Manifest.fromJson(Files.readAllBytes(dir.resolve("out-tree/manifest.json")), "tree");
        final Manifest fromTable = Manifest.fromJson(Files.readAllBytes(dir.resolve("out-table/manifest.json")),
            "table");
        assertSameSplits(fromTree, fromTable, true);

        final StringWriter refused = new StringWriter();
        assertEquals(2, BatonCli.run(new String[] {"prepare", dir.resolve("images.parquet").toString(),
            dir.resolve("out-bad").toString(), "--master", "local[2]", "--image-col", "path", "--label-col", "image",
            "--split-col", "split"}, new PrintWriter(new StringWriter(), true), new PrintWriter(refused, true)));
        assertTrue(refused.toString().contains("label column 'image' of split train has type binary; prepare needs "
            + "string (class names) or an integer type (class index)"), refused.toString());
        assertFalse(Files.exists(dir.resolve("out-bad")), "nothing written");
    }

    @Test
    void shouldRefuseAnImageColumnOfTheWrongTypeInOneLineAndWriteNothing() throws IOException
    {
        final Path dir = tmp("wrong");
        final Dataset<Row> table = spark().range(3).selectExpr("cast(id as int) as image", "'n1' as label");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> prepareTables(
            Map.of("train", table), FrameColumns.of("image", "label"), dir.resolve("out"), new StringWriter()));
        assertEquals("image column 'image' of split train has type int; prepare needs binary (encoded image bytes), "
            + "string (a path on a Hadoop file system) or Spark's image struct", ex.getMessage());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void shouldCountAndNameNullLabelsAndUndecodableBytesAndKeepTheRest() throws IOException
    {
        final Path dir = tmp("bad-rows");
        final byte[] good = ImageNetTree.jpeg(ImageNetTree.picture(40, 30, 7));
        final List<Row> rows = List.of(
            RowFactory.create("a/1.jpg", "a", good, null, "train"),
            RowFactory.create("a/2.jpg", "a", good, null, "train"),
            RowFactory.create("b/1.jpg", "b", good, null, "train"),
            RowFactory.create("b/unlabelled.jpg", null, good, null, "train"),
            RowFactory.create("b/broken.jpg", "b", "not an image".getBytes(), null, "train"),
            RowFactory.create("b/empty.jpg", "b", null, null, "train"));
        final StringWriter console = new StringWriter();
        final Manifest manifest = prepareTables(Map.of("train", spark().createDataFrame(rows, SCHEMA)),
            FrameColumns.of("image", "label").withName("name"), dir.resolve("out"), console);
        final Manifest.Split train = manifest.splits().get("train");
        assertEquals(List.of("a", "b"), manifest.classes());
        assertEquals(3, train.count());
        assertEquals(List.of(2L, 1L), train.perClass());
        final Map<String, String> skipped = new LinkedHashMap<>();
        train.skipped().forEach(s -> skipped.put(s.path(), s.reason()));
        assertEquals(List.of("b/empty.jpg", "b/unlabelled.jpg", "b/broken.jpg"), List.copyOf(skipped.keySet()));
        assertEquals("null label in column 'label'", skipped.get("b/unlabelled.jpg"));
        assertEquals("null image in column 'image'", skipped.get("b/empty.jpg"));
        assertTrue(console.toString().contains("skipped b/broken.jpg: "), console.toString());
        assertTrue(console.toString().contains("train: 3 samples in 1 shards, 3 skipped"), console.toString());
        assertTrue(Files.exists(dir.resolve("out/manifest.json")));
    }
}
