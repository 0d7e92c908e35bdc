package io.baton.api.dl4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.common.store.HadoopConf;
import io.baton.common.store.LocalWrites;
import io.baton.trainer.data.shard.ShardFormat;
import io.baton.trainer.data.shard.ShardWriter;
import io.baton.trainer.data.shard.TensorEncoding;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function2;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Spark function that stages one partition of a DataSet RDD: every example becomes one float32 CHW record
 * ({@link TensorEncoding}) in the shard of its class for this partition ({@code train/train-c<class>-p<partition>}),
 * in the partition's order. It checks each DataSet against the partition's first (features shape, label count),
 * that features are NCHW, labels one-hot and no masks are set; at the first problem it stops and reports it in its
 * {@link PartitionSummary} (as JSON text) instead of throwing, so the driver can name it in one line. Shards are
 * created through {@link LocalWrites} (no chmod process per file on a local run directory).
 *
 * <p>Threading: one instance per task, used by that task's thread only.
 */
final class PartitionWriter implements Function2<Integer, Iterator<DataSet>, Iterator<String>>
{
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String root;

    PartitionWriter(final String root)
    {
        this.root = root;
    }

    @Override
    public Iterator<String> call(final Integer partition, final Iterator<DataSet> dataSets) throws IOException
    {
        final Map<Integer, Open> writers = new TreeMap<>();
        final Path rootPath = new Path(URI.create(root));
        final FileSystem fs = FileSystem.newInstance(rootPath.toUri(), HadoopConf.fresh());
        int[] chw = null;
        int labelCount = 0;
        String firstSource = null;
        String problem = null;
        try
        {
            int index = 0;
            while (problem == null && dataSets.hasNext())
            {
                final DataSet ds = dataSets.next();
                final String source = "DataSet " + index++ + " of partition " + partition;
                problem = DataSetChecks.problem(ds, source, chw, labelCount, firstSource);
                if (problem != null || ds.getFeatures().size(0) == 0)
                {
                    continue;
                }
                if (chw == null)
                {
                    final long[] shape = ds.getFeatures().shape();
                    chw = new int[] {(int) shape[1], (int) shape[2], (int) shape[3]};
                    labelCount = (int) ds.getLabels().size(1);
                    firstSource = source;
                }
                append(ds, partition, fs, rootPath, writers);
            }
            final List<PartitionSummary.ClassShard> shards = new ArrayList<>();
            for (final Map.Entry<Integer, Open> open : writers.entrySet())
            {
                final long crc = open.getValue().writer.finish();
                shards.add(new PartitionSummary.ClassShard(open.getKey(), open.getValue().file,
                    open.getValue().writer.count(), open.getValue().writer.bytesWritten(), crc));
            }
            return List.of(JSON.writeValueAsString(new PartitionSummary(partition, chw, labelCount, firstSource,
                shards, problem))).iterator();
        }
        finally
        {
            for (final Open open : writers.values())
            {
                open.writer.close();
            }
            fs.close();
        }
    }

    private static void append(final DataSet ds, final int partition, final FileSystem fs, final Path root,
        final Map<Integer, Open> writers) throws IOException
    {
        final INDArray features = ds.getFeatures().castTo(DataType.FLOAT).dup('c');
        final float[] all = features.data().asFloat();
        final float[] labels = ds.getLabels().castTo(DataType.FLOAT).dup('c').data().asFloat();
        final int n = (int) features.size(0);
        final int length = all.length / n;
        final int classes = labels.length / n;
        for (int i = 0; i < n; i++)
        {
            final int label = DataSetChecks.hotIndex(labels, i * classes, classes);
            Open open = writers.get(label);
            if (open == null)
            {
                final String file = "train/" + String.format("train-c%05d-p%05d%s", label, partition,
                    ShardFormat.SUFFIX);
                open = new Open(file, new ShardWriter(LocalWrites.create(fs, new Path(root, file))));
                writers.put(label, open);
            }
            open.writer.append(label, "", TensorEncoding.encode(Arrays.copyOfRange(all, i * length,
                (i + 1) * length)));
        }
    }

    /** Reads a summary the function returned. */
    static PartitionSummary summary(final String json)
    {
        try
        {
            return JSON.readValue(json, PartitionSummary.class);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("unreadable partition summary: " + ex.getMessage(), ex);
        }
    }

    /** A shard being written. */
    private record Open(String file, ShardWriter writer)
    {
    }
}
