package io.baton.coordinator.prepare;

import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardRecord;
import io.baton.trainer.data.shard.ShardedDataset;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
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
 * ImageNet's own tar files (a tar of class tars, a flat val tar with LOC_val_solution.csv), made by the test from the
 * images of an {@link ImageNetTree}, prepare to the same samples and shards as the tree itself; bad tars are
 * counted and named, or refused.
 */
class TarInputTest
{
    private static JavaSparkContext sc;

    private static JavaSparkContext spark()
    {
        if (sc == null)
        {
            sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("TarInputTest")
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
            sc = null;
        }
    }

    private static Path tmp(final String name) throws IOException
    {
        final Path base = Path.of(System.getProperty("baton.test.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, name);
    }

    private static Manifest prepare(final Path in, final Path out, final StringWriter console) throws IOException
    {
        final PrepareOptions options = new PrepareOptions(in.toUri(), out.toUri(), List.of("train", "val"), null,
            null, "local[2]", 30_000, 0, 90, true, false);
        return new PrepareJob(options, new PrintWriter(console, true)).run(spark());
    }

    /** A tar of the given (name, bytes) members, in the given order. */
    private static byte[] tar(final Map<String, byte[]> members) throws IOException
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes))
        {
            for (final Map.Entry<String, byte[]> member : members.entrySet())
            {
                final TarArchiveEntry entry = new TarArchiveEntry(member.getKey());
                entry.setSize(member.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(member.getValue());
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
        return bytes.toByteArray();
    }

    /** The files of a folder, in reverse name order (prepare must sort them as the tree's listing is sorted). */
    private static Map<String, byte[]> files(final Path dir) throws IOException
    {
        final Map<String, byte[]> out = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(dir))
        {
            for (final Path file : list.sorted(Comparator.reverseOrder()).toList())
            {
                out.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return out;
    }

    /**
     * ILSVRC2012_img_train.tar (one tar per class, in the tree's unsorted creation order, plus {@code extra}
     * members), ILSVRC2012_img_val.tar and LOC_val_solution.csv (without the lines of {@code unlabelled}) from the
     * tree.
     */
    private static Path tars(final ImageNetTree tree, final Path dir, final Map<String, byte[]> extra,
        final List<String> unlabelled) throws IOException
    {
        Files.createDirectories(dir);
        final Map<String, byte[]> classes = new LinkedHashMap<>();
        for (final String wnid : ImageNetTree.WNIDS)
        {
            classes.put(wnid + ".tar", tar(files(tree.root.resolve("train").resolve(wnid))));
        }
        classes.putAll(extra);
        Files.write(dir.resolve(TarInput.TRAIN_TAR), tar(classes));
        Files.write(dir.resolve(TarInput.VAL_TAR), tar(files(tree.root.resolve("val"))));
        final List<String> csv = new ArrayList<>(Files.readAllLines(tree.root.resolve(ValLabels.LOC_CSV)));
        csv.removeIf(line -> unlabelled.stream().anyMatch(line::startsWith));
        Files.write(dir.resolve(ValLabels.LOC_CSV), csv);
        return dir;
    }

    private static List<String> paths(final List<Manifest.SkippedFile> skipped)
    {
        return skipped.stream().map(Manifest.SkippedFile::path).toList();
    }

    @Test
    void shouldPrepareTheTarsToTheSamplesAndShardsOfTheExtractedTree() throws IOException
    {
        final Path dir = tmp("tars");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("tree"), false);
        final Path tars = tars(tree, dir.resolve("tars"), Map.of(), List.of());
        final StringWriter treeConsole = new StringWriter();
        final StringWriter tarConsole = new StringWriter();
        final Manifest fromTree = prepare(tree.root, dir.resolve("out-tree"), treeConsole);
        final Manifest fromTars = prepare(tars, dir.resolve("out-tars"), tarConsole);

        assertEquals(fromTree.classes(), fromTars.classes());
        assertEquals(fromTree.classToIndex(), fromTars.classToIndex());
        for (final String split : List.of("train", "val"))
        {
            final Manifest.Split a = fromTree.splits().get(split);
            final Manifest.Split b = fromTars.splits().get(split);
            assertEquals(a.count(), b.count(), split);
            assertEquals(a.perClass(), b.perClass(), split);
            assertEquals(a.skipped(), b.skipped(), split + ": the corrupt file is skipped with the same reason");
            assertEquals(a.inputBytes(), b.inputBytes(), split);
            assertEquals(a.shards(), b.shards(), split + ": byte-identical shards (same files, sizes, checksums)");
        }
        assertEquals("class-tars", fromTars.splits().get("train").layout());
        assertEquals("tar+loc-csv", fromTars.splits().get("val").layout());
        assertEquals(List.of(ImageNetTree.CORRUPT), paths(fromTars.splits().get("train").skipped()));
        assertTrue(tarConsole.toString().contains("ignored 1 file(s) not named *.JPEG/.jpg/.jpeg/.png: "
            + "train/n02000002/notes.txt"), tarConsole.toString());

        for (final String split : List.of("train", "val"))
        {
            try (ShardedDataset a = ShardedDataset.open(dir.resolve("out-tree").toUri(), split, dir.resolve("c"));
                ShardedDataset b = ShardedDataset.open(dir.resolve("out-tars").toUri(), split, dir.resolve("c")))
            {
                assertEquals(split.equals("train") ? tree.train.size() : tree.val.size(), b.size());
                for (long id = 0; id < a.size(); id++)
                {
                    final ShardRecord ra = a.record(id);
                    final ShardRecord rb = b.record(id);
                    assertEquals(ra.path(), rb.path());
                    assertEquals(ra.label(), rb.label(), ra.path());
                    assertArrayEquals(ra.bytes(), rb.bytes(), ra.path());
                    assertArrayEquals(Files.readAllBytes(tree.root.resolve(rb.path())), rb.bytes(), rb.path());
                }
            }
        }
    }

    @Test
    void shouldPrepareTheTarsFromTheCli() throws IOException
    {
        stopSpark(); // the CLI makes its own SparkContext, and a JVM holds one at a time
        final Path dir = tmp("cli");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("tree"), false);
        final Path tars = tars(tree, dir.resolve("tars"), Map.of(), List.of());
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = io.baton.coordinator.cli.BatonCli.run(new String[] {"prepare", tars.toString(),
            dir.resolve("out").toString(), "--master", "local[2]", "--shard-size", "40k"}, new PrintWriter(out, true),
            new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("skipped " + ImageNetTree.CORRUPT), out.toString());
        assertTrue(out.toString().contains("samples=train:" + tree.train.size() + ",val:" + tree.val.size()),
            out.toString());
    }

    @Test
    void shouldSkipAndNameWhatATruncatedTrainTarLosesAndKeepTheRest() throws IOException
    {
        final Path dir = tmp("truncated");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("tree"), false);
        final Path tars = tars(tree, dir.resolve("tars"), Map.of(), List.of());
        // The last class tar (n01000001, the tree's third) loses all but the first header and 100 data bytes of its
        // first member (its largest name: members are in reverse name order).
        final Path train = tars.resolve(TarInput.TRAIN_TAR);
        final long lastClassData = Files.size(train) - tar(Map.of("n01000001.tar",
            tar(files(tree.root.resolve("train/n01000001"))))).length + 512;
        try (RandomAccessFile file = new RandomAccessFile(train.toFile(), "rw"))
        {
            file.setLength(lastClassData + 512 + 100);
        }
        final StringWriter console = new StringWriter();
        final Manifest manifest = prepare(tars, dir.resolve("out"), console);

        final Manifest.Split split = manifest.splits().get("train");
        assertEquals(List.of("n00000003", "n01000001", "n02000002"), manifest.classes());
        assertEquals(List.of(5L, 0L, 5L), split.perClass());
        assertEquals(10, split.count());
        final List<String> skipped = paths(split.skipped());
        assertTrue(skipped.contains("train/n01000001/n01000001_4.jpeg"), skipped.toString());
        assertTrue(skipped.contains("train/n01000001.tar"), skipped.toString());
        assertTrue(skipped.contains(TarInput.TRAIN_TAR), skipped.toString());
        assertTrue(split.skipped().get(skipped.indexOf("train/n01000001/n01000001_4.jpeg")).reason()
            .startsWith("truncated: ILSVRC2012_img_train.tar/n01000001.tar ends inside it"), split.toString());
        assertTrue(console.toString().contains("skipped train/n01000001/n01000001_4.jpeg: truncated"),
            console.toString());
        assertEquals(6, manifest.splits().get("val").count());
    }

    @Test
    void shouldRefuseAnEmptyClassTarNamingItAndWriteNothing() throws IOException
    {
        final Path dir = tmp("empty");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("tree"), false);
        final Path tars = tars(tree, dir.resolve("tars"), Map.of("n03000000.tar", tar(Map.of())), List.of());
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> prepare(tars, dir.resolve("out"), new StringWriter()));
        assertEquals("empty class tar ILSVRC2012_img_train.tar/n03000000.tar: no .JPEG/.jpg/.jpeg/.png members",
            ex.getMessage());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void shouldSkipAndNameValImagesWithoutALabelLine() throws IOException
    {
        final Path dir = tmp("unlabelled");
        final ImageNetTree tree = ImageNetTree.withFlatVal(dir.resolve("tree"), false);
        final Path tars = tars(tree, dir.resolve("tars"), Map.of(), List.of("ILSVRC2012_val_00000003,"));
        final StringWriter console = new StringWriter();
        final Manifest manifest = prepare(tars, dir.resolve("out"), console);
        final Manifest.Split val = manifest.splits().get("val");
        assertEquals(5, val.count());
        assertEquals(List.of("val/ILSVRC2012_val_00000003.JPEG"), paths(val.skipped()));
        final String reason = val.skipped().get(0).reason();
        assertTrue(reason.startsWith("no label in ") && reason.endsWith("/tars/" + ValLabels.LOC_CSV), reason);
        assertTrue(console.toString().contains("prepare val: 5 samples in"), console.toString());
        assertTrue(console.toString().contains("1 skipped"), console.toString());
    }

    @Test
    void shouldListATarsMembersWithThePositionOfTheirData() throws IOException
    {
        final Path dir = tmp("list");
        final Map<String, byte[]> members = new LinkedHashMap<>();
        members.put("a.JPEG", "first".getBytes());
        members.put("sub/b.txt", new byte[1000]);
        members.put("c.png", "third member".getBytes());
        final byte[] bytes = tar(members);
        final Path file = dir.resolve("x.tar");
        try (OutputStream out = Files.newOutputStream(file))
        {
            out.write(new byte[7]);
            out.write(bytes);
        }
        final org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.getLocal(
            new org.apache.hadoop.conf.Configuration());
        try (org.apache.hadoop.fs.FSDataInputStream in = fs.open(new org.apache.hadoop.fs.Path(file.toUri())))
        {
            final TarInput.Listing listing = TarInput.list(in, 7, 7 + bytes.length);
            assertEquals(null, listing.error());
            assertEquals(List.of("a.JPEG", "sub/b.txt", "c.png"),
                listing.members().stream().map(TarInput.Member::name).toList());
            for (final TarInput.Member member : listing.members())
            {
                final byte[] data = new byte[(int)member.size()];
                in.readFully(member.offset(), data);
                assertArrayEquals(members.get(member.name()), data, member.name());
            }
        }
    }
}
