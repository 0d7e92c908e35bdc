package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import io.baton.trainer.data.shard.Manifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Tables as {@code baton prepare}'s input: one Spark {@link Dataset} per split (a DataFrame, a Parquet or ORC
 * table, Spark's {@code binaryFile} or {@code image} source) with an image and a label column ({@link FrameColumns}).
 *
 * <p>Two passes over each table. The first reads every row's name, label and image size (no image bytes reach the
 * driver); the driver orders the samples as a tree's are (by class, then name) and cuts them into shards by size.
 * The second routes each row to its shard (by its (class, name) key against the shards' first keys), sorts each
 * shard's rows by Spark's shuffle sort and writes the shard through {@link ShardOutput}, which validates and skips
 * undecodable images as for a tree. The table is read twice, so it should be deterministic (a file source is); the
 * manifest counts what the second pass wrote.
 *
 * <p>Classes: with string labels, the sorted distinct labels of the {@code train} split (of the first split when
 * there is none), as a tree's class folders are sorted; a label of another split that is not among them is refused.
 * With integer labels, class i is the label value i, for 0 .. the largest label of that split; a negative label or a
 * larger one in another split is refused. Rows with a null label or image are skipped and named; a name used twice in
 * a split is refused (names order the samples), except the content digests of a table without a name column, whose
 * duplicates are the same image.
 */
final class FrameSource implements PrepareSource
{
    private final Map<String, Dataset<Row>> tables;
    private final Map<String, FrameRow> rows = new LinkedHashMap<>();
    private final FrameColumns columns;
    private final PrepareOptions options;
    private final Map<String, List<Entry>> entries = new LinkedHashMap<>();
    private List<String> classNames = List.of();

    FrameSource(final Map<String, Dataset<Row>> tables, final FrameColumns columns, final PrepareOptions options)
    {
        this.tables = tables;
        this.columns = columns;
        this.options = options;
        FrameRow first = null;
        for (final String split : options.splits())
        {
            final Dataset<Row> table = tables.get(split);
            if (table == null)
            {
                throw new IllegalArgumentException("no table for split " + split + " (tables: " + tables.keySet()
                    + ")");
            }
            final FrameRow row = columns.check(table.schema(), split);
            if (first != null && first.integralLabel() != row.integralLabel())
            {
                throw new IllegalArgumentException("label column '" + columns.label() + "' is a string in one split "
                    + "and an integer in another; the splits must agree");
            }
            first = first == null ? row : first;
            rows.put(split, row);
        }
    }

    @Override
    public List<String> classes() throws IOException
    {
        final String reference = options.splits().contains("train") ? "train" : options.splits().get(0);
        final FrameRow row = rows.get(reference);
        final List<String> classes = new ArrayList<>();
        if (row.integralLabel())
        {
            long max = -1;
            for (final Entry entry : entries(reference))
            {
                if (entry.problem() == null && !entry.ignored())
                {
                    final long value = Long.parseLong(entry.label());
                    if (value < 0)
                    {
                        throw new IllegalArgumentException("negative label " + value + " of " + entry.name()
                            + " in column '" + columns.label() + "' of split " + reference);
                    }
                    max = Math.max(max, value);
                }
            }
            if (max >= Integer.MAX_VALUE)
            {
                throw new IllegalArgumentException("label " + max + " in column '" + columns.label() + "' of split "
                    + reference + " is too large for a class index");
            }
            for (long c = 0; c <= max; c++)
            {
                classes.add(Long.toString(c));
            }
        }
        else
        {
            final TreeSet<String> names = new TreeSet<>();
            for (final Entry entry : entries(reference))
            {
                if (entry.problem() == null && !entry.ignored())
                {
                    names.add(entry.label());
                }
            }
            classes.addAll(names);
        }
        if (classes.isEmpty())
        {
            throw new IllegalArgumentException("no labelled image in split " + reference + " of the input");
        }
        classNames = List.copyOf(classes);
        return classes;
    }

    @Override
    public SplitPlan scan(final String split, final List<String> classes) throws IOException
    {
        final Map<String, Integer> index = Manifest.indexOf(classes);
        final List<InputFile> files = new ArrayList<>();
        final List<String> ignored = new ArrayList<>();
        final List<Manifest.SkippedFile> skipped = new ArrayList<>();
        for (final Entry entry : entries(split))
        {
            if (entry.ignored())
            {
                ignored.add(entry.name());
            }
            else if (entry.problem() != null)
            {
                skipped.add(new Manifest.SkippedFile(entry.name() == null ? "(a row without a name)" : entry.name(),
                    entry.problem()));
            }
            else
            {
                final Integer label = index.get(entry.label());
                if (label == null)
                {
                    throw new IllegalArgumentException(entry.name() + " of split " + split + " is labelled '"
                        + entry.label() + "', which is not a class of the input (" + classes.size() + " classes)");
                }
                files.add(new InputFile(entry.name(), label, entry.length()));
            }
        }
        if (files.isEmpty())
        {
            throw new IllegalArgumentException("no labelled image in split " + split + " of the input");
        }
        files.sort(Comparator.comparingInt(InputFile::label).thenComparing(InputFile::path));
        if (columns.name() != null || rows.get(split).kind() != FrameColumns.ImageKind.BYTES)
        {
            for (int i = 1; i < files.size(); i++)
            {
                if (files.get(i).label() == files.get(i - 1).label()
                    && files.get(i).path().equals(files.get(i - 1).path()))
                {
                    throw new IllegalArgumentException("name " + files.get(i).path() + " appears twice in split "
                        + split + "; names must be unique within a split (they order the samples)");
                }
            }
        }
        skipped.sort(Comparator.comparing(Manifest.SkippedFile::path));
        ignored.sort(Comparator.naturalOrder());
        return new SplitPlan(split, "table-" + rows.get(split).kind().name().toLowerCase(java.util.Locale.ROOT), files,
            ignored, skipped);
    }

    @Override
    public List<ShardResult> write(final JavaSparkContext sc, final SplitPlan plan, final List<ShardTask> tasks,
        final int numClasses, final LongAccumulator filesDone, final LongAccumulator bytesDone)
    {
        final List<Key> firsts = new ArrayList<>();
        for (final ShardTask task : tasks)
        {
            firsts.add(new Key(0, task.files().get(0).label(), task.files().get(0).path()));
        }
        final Map<String, Integer> index = new java.util.HashMap<>(Manifest.indexOf(classNames));
        final FrameRow row = rows.get(plan.split());
        final String split = plan.split();
        final JavaPairRDD<Key, Image> keyed = tables.get(plan.split()).toJavaRDD()
            .filter(r -> row.wanted(r) && row.problem(r) == null && index.containsKey(row.label(r)))
            .mapToPair(r -> {
                final Key key = Key.route(firsts, index.get(row.label(r)), row.name(r));
                return new Tuple2<>(key, Image.of(row, r));
            });
        final PrepareOptions opts = options;
        return keyed.repartitionAndSortWithinPartitions(new ShardPartitioner(tasks.size()), new KeyOrder())
            .mapPartitionsWithIndex((shard, it) -> Collections.singletonList(
                writeShard(opts, split, shard, numClasses, it, filesDone, bytesDone)).iterator(), false)
            .collect();
    }

    @Override
    public Map<String, Object> describe()
    {
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("format", "table");
        out.put("imageColumn", columns.image());
        out.put("labelColumn", columns.labelFromFolder() ? null : columns.label());
        out.put("nameColumn", columns.name());
        out.put("labelFromFolder", columns.labelFromFolder());
        return out;
    }

    private static ShardResult writeShard(final PrepareOptions options, final String split, final int shard,
        final int numClasses, final Iterator<Tuple2<Key, Image>> it, final LongAccumulator filesDone,
        final LongAccumulator bytesDone) throws IOException
    {
        final Configuration conf = HadoopConf.fresh();
        try (ShardOutput output = new ShardOutput(options, split, shard, numClasses))
        {
            while (it.hasNext())
            {
                final Tuple2<Key, Image> next = it.next();
                final Image image = next._2();
                final long read = output.add(next._1().name(), next._1().label(), () -> image.read(conf));
                filesDone.add(1);
                bytesDone.add(read);
            }
            return output.finish();
        }
    }

    private List<Entry> entries(final String split)
    {
        return entries.computeIfAbsent(split, s -> {
            final FrameRow row = rows.get(s);
            return tables.get(s).toJavaRDD().mapPartitions(it -> {
                final Configuration conf = HadoopConf.fresh();
                final List<Entry> out = new ArrayList<>();
                while (it.hasNext())
                {
                    out.add(Entry.of(row, it.next(), conf));
                }
                return out.iterator();
            }).collect();
        });
    }

    /**
     * What the first pass learns of a row.
     *
     * @param name    its name (null when the name column is null).
     * @param label   its label as text.
     * @param length  its image's input bytes.
     * @param problem why it cannot be a sample, or null.
     * @param ignored not an image by name ({@link FrameColumns#imageNamesOnly()}).
     */
    record Entry(String name, String label, long length, String problem, boolean ignored) implements Serializable
    {
        static Entry of(final FrameRow row, final Row r, final Configuration conf) throws IOException
        {
            final String name = row.name(r);
            if (!row.wanted(r))
            {
                return new Entry(name, null, 0, null, true);
            }
            final String problem = row.problem(r);
            if (problem != null)
            {
                return new Entry(name, null, 0, problem, false);
            }
            return new Entry(name, row.label(r), row.length(r, conf), null, false);
        }
    }

    /**
     * A sample's place: its shard, then its order within the shard.
     *
     * @param shard shard index.
     * @param label class index.
     * @param name  row name.
     */
    record Key(int shard, int label, String name) implements Serializable
    {
        private static final Comparator<Key> ORDER = Comparator.comparingInt(Key::shard)
            .thenComparingInt(Key::label).thenComparing(Key::name);

        /** The key of (label, name) in the last shard whose first sample is not after it. */
        static Key route(final List<Key> firsts, final int label, final String name)
        {
            int lo = 0;
            int hi = firsts.size() - 1;
            while (lo < hi)
            {
                final int mid = (lo + hi + 1) >>> 1;
                final Key first = firsts.get(mid);
                final int c = first.label() != label ? Integer.compare(first.label(), label)
                    : first.name().compareTo(name);
                if (c <= 0)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return new Key(lo, label, name);
        }
    }

    /** Sorts keys by shard, class and name (serializable for the shuffle). */
    private static final class KeyOrder implements Comparator<Key>, Serializable
    {
        private static final long serialVersionUID = 1L;

        @Override
        public int compare(final Key a, final Key b)
        {
            return Key.ORDER.compare(a, b);
        }
    }

    /** One partition per shard. */
    private static final class ShardPartitioner extends Partitioner
    {
        private static final long serialVersionUID = 1L;
        private final int shards;

        ShardPartitioner(final int shards)
        {
            this.shards = shards;
        }

        @Override
        public int numPartitions()
        {
            return shards;
        }

        @Override
        public int getPartition(final Object key)
        {
            return ((Key)key).shard();
        }
    }

    /**
     * A row's image on its way to its shard: the encoded bytes, or the path the shard task reads.
     *
     * @param bytes encoded image, or null.
     * @param path  path on a Hadoop file system, or null.
     * @param error why the image could not be encoded, or null.
     */
    record Image(byte[] bytes, String path, String error) implements Serializable
    {
        static Image of(final FrameRow row, final Row r)
        {
            if (row.kind() == FrameColumns.ImageKind.PATH)
            {
                return new Image(null, row.path(r), null);
            }
            try
            {
                return new Image(row.encoded(r), null, null);
            }
            catch (final IOException ex)
            {
                return new Image(null, null, String.valueOf(ex.getMessage()));
            }
        }

        byte[] read(final Configuration conf) throws IOException
        {
            if (error != null)
            {
                throw new IOException(error);
            }
            return bytes != null ? bytes : FrameRow.read(path, conf);
        }
    }
}
