package io.baton.api.dl4j;

import io.baton.common.store.HadoopConf;
import io.baton.common.store.LocalWrites;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.TensorEncoding;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Stages a {@code JavaRDD<DataSet>} once into Baton's indexed form: a prepared data set (manifest and shards, as
 * {@code baton prepare} writes) whose records are the examples' float tensors ({@link TensorEncoding}). One Spark
 * job writes, per partition, one shard per class; the driver then numbers the samples as every prepared split is
 * numbered, by class, and within a class by (partition, position in the partition), and writes the manifest last. So
 * a sample's id, and with it Baton's global batch order, is a function of the RDD's content and order alone, and the
 * staged data's identity ({@code data.identity}) tells an exact resume whether it is the same data.
 *
 * <p>The {@code val} split lists the same shards: a DataSet RDD has no held-out part, so Baton's end-of-run evaluation,
 * when turned on ({@code run.final-evaluation}), scores the training examples (evaluate held-out data with DL4J's
 * {@code evaluate}).
 *
 * <p>Threading: one call at a time per target directory; the call blocks until the Spark job ends.
 */
final class DataSetStaging
{
    /** Manifest layout name of staged DataSets. */
    static final String LAYOUT = "dl4j-dataset-rdd";

    private DataSetStaging()
    {
    }

    /**
     * What was staged.
     *
     * @param uri     the prepared data's root (give it to {@code data.path}).
     * @param chw     one example's {@code [channels, height, width]}.
     * @param classes the label count.
     * @param samples examples staged.
     */
    record Staged(String uri, int[] chw, int classes, long samples)
    {
    }

    /**
     * Replaces whatever is at {@code target} with the staged RDD.
     *
     * @throws IllegalArgumentException in one line naming the DataSet and value, when the RDD is empty or its
     *                                  DataSets disagree or cannot be trained on; nothing is left at {@code target}.
     */
    static Staged stage(final JavaRDD<DataSet> data, final String target)
    {
        final Path root = new Path(URI.create(target));
        try (FileSystem fs = FileSystem.newInstance(root.toUri(), HadoopConf.fresh()))
        {
            fs.delete(root, true);
            LocalWrites.mkdirs(fs, new Path(root, "train"));
            final String qualified = fs.makeQualified(root).toUri().toString();
            final List<PartitionSummary> summaries = new ArrayList<>();
            for (final String json : data.mapPartitionsWithIndex(new PartitionWriter(qualified), false).collect())
            {
                summaries.add(PartitionWriter.summary(json));
            }
            summaries.sort(Comparator.comparingInt(PartitionSummary::partition));
            try
            {
                final Staged staged = check(summaries, qualified, data.getNumPartitions());
                writeManifest(fs, root, manifest(summaries, staged));
                return staged;
            }
            catch (final IllegalArgumentException ex)
            {
                fs.delete(root, true);
                throw ex;
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("staging the DataSet RDD into " + target + ": " + ex.getMessage(), ex);
        }
    }

    /** The first problem any partition or two partitions together show, as an IllegalArgumentException. */
    private static Staged check(final List<PartitionSummary> summaries, final String uri, final int partitions)
    {
        PartitionSummary first = null;
        long samples = 0;
        for (final PartitionSummary s : summaries)
        {
            if (s.problem() != null)
            {
                throw new IllegalArgumentException("the training RDD cannot be trained on: " + s.problem());
            }
            if (s.chw() == null)
            {
                continue;
            }
            if (first == null)
            {
                first = s;
            }
            else if (!Arrays.equals(s.chw(), first.chw()))
            {
                throw new IllegalArgumentException("the training RDD cannot be trained on: " + s.firstSource()
                    + " has examples of shape [channels, height, width] = " + Arrays.toString(s.chw()) + " but "
                    + first.firstSource() + " has " + Arrays.toString(first.chw()) + "; every example of the RDD "
                    + "must have the same shape");
            }
            else if (s.labelCount() != first.labelCount())
            {
                throw new IllegalArgumentException("the training RDD cannot be trained on: " + s.firstSource()
                    + " has " + s.labelCount() + " label columns but " + first.firstSource() + " has "
                    + first.labelCount() + "; every DataSet of the RDD must have one column per class of the same "
                    + "classes");
            }
            samples += s.examples();
        }
        if (first == null)
        {
            throw new IllegalArgumentException("the training RDD is empty: its " + partitions + " partition(s) hold "
                + "no example; BatonTrainingMaster needs at least one global batch of examples");
        }
        return new Staged(uri, first.chw(), first.labelCount(), samples);
    }

    /** Train and val splits over the shards, numbered by class, then partition. */
    private static Manifest manifest(final List<PartitionSummary> summaries, final Staged staged)
    {
        final List<String> classes = new ArrayList<>();
        for (int c = 0; c < staged.classes(); c++)
        {
            classes.add(String.format("class-%05d", c));
        }
        final List<Long> perClass = new ArrayList<>();
        final List<Manifest.ShardEntry> shards = new ArrayList<>();
        long next = 0;
        long bytes = 0;
        for (int c = 0; c < staged.classes(); c++)
        {
            long count = 0;
            for (final PartitionSummary s : summaries)
            {
                for (final PartitionSummary.ClassShard shard : s.shards())
                {
                    if (shard.label() == c)
                    {
                        shards.add(new Manifest.ShardEntry(shard.file(), next, shard.count(), shard.bytes(),
                            Manifest.crcHex(shard.crc32c())));
                        next += shard.count();
                        count += shard.count();
                        bytes += shard.bytes();
                    }
                }
            }
            perClass.add(count);
        }
        final Manifest.Split split = new Manifest.Split(staged.samples(), perClass, LAYOUT, shards, List.of(), bytes);
        return new Manifest(Manifest.FORMAT_VERSION, classes, Manifest.indexOf(classes),
            Map.of("train", split, "val", split), TensorEncoding.options(staged.chw(), Map.of("source",
            "DL4J DataSet RDD (BatonTrainingMaster)")), Instant.now().toString());
    }

    private static void writeManifest(final FileSystem fs, final Path root, final Manifest manifest)
        throws IOException
    {
        try (OutputStream out = LocalWrites.create(fs, new Path(root, Manifest.FILE_NAME)))
        {
            out.write(manifest.toJson());
        }
    }
}
