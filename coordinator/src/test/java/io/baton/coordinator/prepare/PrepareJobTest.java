package io.baton.coordinator.prepare;

import io.baton.coordinator.cli.BatonCli;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.RgbImage;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardRecord;
import io.baton.trainer.data.shard.ShardedDataset;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrepareJobTest
{
    private static final List<String> SORTED = List.of("n00000003", "n01000001", "n02000002");
    private static JavaSparkContext sc;

    private static JavaSparkContext spark()
    {
        if (sc == null)
        {
            sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("PrepareJobTest")
                .set("spark.ui.enabled", "false"));
        }
        return sc;
    }

    @AfterAll
    static void stopSpark()
    {
        if (sc != null)
        {
            sc.close();
        }
    }

    private static Path tmp(final String name) throws IOException
    {
        final Path base = Path.of(System.getProperty("baton.test.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name);
    }

    private static PrepareOptions options(final URI in, final URI out, final List<String> splits,
        final boolean overwrite, final int resize)
    {
        return new PrepareOptions(in, out, splits, null, null, "local[2]", 30_000, resize, 90, true, overwrite);
    }

    private static Manifest prepare(final PrepareOptions options, final StringWriter console) throws IOException
    {
        return new PrepareJob(options, new PrintWriter(console, true)).run(spark());
    }

    @Test
    @Order(1)
    void shouldRunFromTheCliPrintingProgressAndSampleCounts() throws IOException
    {
        final Path dir = tmp("cli");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"prepare", tree.root.toString(), dir.resolve("out").toString(),
            "--master", "local[2]", "--shard-size", "40k"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("prepare train: " + (tree.train.size() + 1) + "/" + (tree.train.size() + 1)
            + " files (100%)"), out.toString());
        assertTrue(out.toString().contains("skipped " + ImageNetTree.CORRUPT), out.toString());
        assertTrue(out.toString().contains("samples=train:" + tree.train.size() + ",val:" + tree.val.size()),
            out.toString());
    }

    @Test
    @Order(2)
    void shouldShardBothSplitsWithSortedClassesCountsChecksumsAndTheCorruptFileSkipped() throws IOException
    {
        final Path dir = tmp("local");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final URI out = dir.resolve("out").toUri();
        final StringWriter console = new StringWriter();
        final Manifest manifest = prepare(options(tree.root.toUri(), out, List.of("train", "val"), false, 0), console);

        assertEquals(SORTED, manifest.classes());
        assertEquals(Map.of("n00000003", 0, "n01000001", 1, "n02000002", 2), manifest.classToIndex());
        final Manifest.Split train = manifest.splits().get("train");
        assertEquals(tree.train.size(), train.count());
        assertEquals(List.of(5L, 4L, 5L), train.perClass());
        assertEquals("class-folders", train.layout());
        assertEquals(1, train.skipped().size());
        assertEquals(ImageNetTree.CORRUPT, train.skipped().get(0).path());
        assertTrue(train.shards().size() > 1, "several shards at 30 kB: " + train.shards());
        assertEquals(6, manifest.splits().get("val").count());
        assertEquals(List.of(2L, 2L, 2L), manifest.splits().get("val").perClass());
        assertTrue(console.toString().contains("skipped " + ImageNetTree.CORRUPT), console.toString());
        assertEquals(30_000L, manifest.options().get("shardBytes"));
        try (Stream<Path> files = Files.walk(dir.resolve("out")))
        {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary files left");
        }

        assertSamplesMatch(tree, out, dir.resolve("cache"), "train", tree.train);
        assertSamplesMatch(tree, out, dir.resolve("cache"), "val", tree.val);
        assertFalse(Files.exists(dir.resolve("cache")), "file:// shards are read in place");
    }

    @Test
    @Order(3)
    void shouldRefuseAnExistingOutputUnlessOverwrite() throws IOException
    {
        final Path dir = tmp("overwrite");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final URI out = dir.resolve("out").toUri();
        Files.createDirectories(dir.resolve("out"));
        Files.writeString(dir.resolve("out/old.txt"), "previous run");
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> prepare(options(tree.root.toUri(), out, List.of("val"), false, 0), new StringWriter()));
        assertTrue(refused.getMessage().contains("already exists") && refused.getMessage().contains("--overwrite"),
            refused.getMessage());
        assertTrue(Files.exists(dir.resolve("out/old.txt")), "nothing deleted");

        final Manifest manifest = prepare(options(tree.root.toUri(), out, List.of("val"), true, 0), new StringWriter());
        assertEquals(6, manifest.splits().get("val").count());
        assertFalse(Files.exists(dir.resolve("out/old.txt")));
    }

    @Test
    @Order(4)
    void shouldFailNamingTheEmptyClassFolderOrTheMissingSplit() throws IOException
    {
        final Path dir = tmp("bad");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final Path empty = tree.root.resolve("train/n05000005");
        Files.createDirectories(empty);
        Files.writeString(empty.resolve("readme.txt"), "no images here");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> prepare(options(tree.root.toUri(), dir.resolve("out").toUri(), List.of("train"), false, 0),
                new StringWriter()));
        assertTrue(ex.getMessage().contains("empty class folder") && ex.getMessage().contains("train/n05000005"),
            ex.getMessage());

        final IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
            () -> prepare(options(tree.root.toUri(), dir.resolve("out").toUri(), List.of("test"), false, 0),
                new StringWriter()));
        assertTrue(missing.getMessage().contains("missing split folder") && missing.getMessage().contains("in/test"),
            missing.getMessage());
        assertFalse(Files.exists(dir.resolve("out/" + Manifest.FILE_NAME)));
    }

    @Test
    @Order(5)
    void shouldLabelAFlatValFolderFromLocCsvOrDevkitGroundTruth() throws IOException
    {
        for (final boolean devkit : new boolean[] {false, true})
        {
            final Path dir = tmp("flat");
            final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("in"), devkit);
            final URI out = dir.resolve("out").toUri();
            final Manifest manifest = prepare(options(tree.root.toUri(), out, List.of("val"), false, 0),
                new StringWriter());
            final Manifest.Split val = manifest.splits().get("val");
            assertEquals(devkit ? "devkit" : "loc-csv", val.layout());
            assertEquals(List.of(2L, 2L, 2L), val.perClass());
            assertSamplesMatch(tree, out, dir.resolve("cache"), "val", tree.val);
        }
    }

    @Test
    @Order(6)
    void shouldShrinkImagesAtPrepareTimeToTheShorterSideLimit() throws IOException
    {
        final Path dir = tmp("resize");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final URI out = dir.resolve("out").toUri();
        prepare(options(tree.root.toUri(), out, List.of("train"), false, 48), new StringWriter());
        final ImageDecoder decoder = new ImageDecoder(JpegBackend.DEFAULT);
        try (ShardedDataset data = ShardedDataset.open(out, "train", dir.resolve("cache")))
        {
            for (long id = 0; id < data.size(); id++)
            {
                final ShardRecord record = data.record(id);
                final RgbImage image = decoder.decode(record.bytes());
                final RgbImage original = decoder.decode(Files.readAllBytes(tree.root.resolve(record.path())));
                final int shorter = Math.min(original.width(), original.height());
                assertEquals(Math.min(shorter, 48), Math.min(image.width(), image.height()), record.path());
                assertEquals((double)original.width() / original.height(), (double)image.width() / image.height(),
                    0.05, record.path());
            }
        }
    }

    @Test
    @Order(7)
    void shouldPrepareOnHdfsAndReadShardsThroughTheBoundedLocalCache() throws Exception
    {
        final Path dir = tmp("hdfs");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("in"), false);
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("dfs").toString());
        final MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try
        {
            cluster.waitActive();
            final FileSystem fs = cluster.getFileSystem();
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(tree.root.toUri()), new org.apache.hadoop.fs.Path(
                "/imagenet"));
            final URI base = fs.getUri();
            final URI in = base.resolve("/imagenet");
            final URI out = base.resolve("/prepared");
            final Manifest manifest = prepare(options(in, out, List.of("train", "val"), false, 0), new StringWriter());
            assertEquals(tree.train.size(), manifest.splits().get("train").count());
            assertEquals(ImageNetTree.CORRUPT, manifest.splits().get("train").skipped().get(0).path());
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/prepared/" + Manifest.FILE_NAME)));
            assertThrows(IllegalArgumentException.class,
                () -> prepare(options(in, out, List.of("val"), false, 0), new StringWriter()));

            final Path cache = dir.resolve("cache");
            assertSamplesMatch(tree, out, cache, "train", tree.train);
            // read through the bounded block cache (ShardBlockCacheTest), whose folder goes when the data set closes
            try (Stream<Path> files = Files.walk(cache))
            {
                assertEquals(List.of(), files.filter(Files::isRegularFile).toList());
            }
        }
        finally
        {
            cluster.shutdown();
        }
    }

    /** Every sample, visited in random order, has the bytes, path and label of the expected input file. */
    private static void assertSamplesMatch(
        final ImageNetTree tree,
        final URI out,
        final Path cache,
        final String split,
        final Map<String, String> expected) throws IOException
    {
        final List<String> order = ImageNetTree.order(expected);
        final ImageDecoder decoder = new ImageDecoder(JpegBackend.DEFAULT);
        try (ShardedDataset data = ShardedDataset.open(out, split, cache))
        {
            assertEquals(order.size(), data.size());
            final List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < order.size(); i++)
            {
                ids.add(i);
            }
            Collections.shuffle(ids, new Random(5));
            for (final int id : ids)
            {
                final String path = order.get(id);
                final ShardRecord record = data.record(id);
                assertEquals(path, record.path());
                assertEquals(SORTED.indexOf(expected.get(path)), data.label(id), path);
                assertEquals(data.label(id), record.label());
                assertArrayEquals(Files.readAllBytes(tree.root.resolve(path)), data.bytes(id), path);
                final RgbImage image = decoder.decode(record.bytes());
                assertTrue(image.width() > 0, path);
            }
        }
    }

    @Test
    @Order(8)
    void shouldRefuseAnOutputLeftByAnUnfinishedPrepareSayingSo() throws IOException
    {
        final Path dir = tmp("unfinished");
        final ImageNetTree tree = ImageNetTree.withValFolders(dir.resolve("in"));
        final Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("train"));
        Files.writeString(out.resolve("train/train-00000.shard"), "half a shard");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> prepare(options(tree.root.toUri(), out.toUri(), List.of("train", "val"), false, 0),
                new StringWriter()));
        assertTrue(ex.getMessage().contains("without " + Manifest.FILE_NAME + " (an earlier prepare that did not "
            + "finish, or another folder); use --overwrite"), ex.getMessage());
        assertTrue(Files.exists(out.resolve("train/train-00000.shard")), "nothing deleted without --overwrite");
    }
}
