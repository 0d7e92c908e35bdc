package io.baton.api.dl4j;

import java.util.List;

/**
 * What one partition of a staged DataSet RDD wrote: its examples per class, the shard file of each non-empty class,
 * the shape and label count it saw first, or the first problem it found (then nothing more was written). Travels
 * from executor to driver as JSON text, so that no class of Baton's needs registering with the caller's Kryo.
 *
 * @param partition   the RDD partition index.
 * @param chw         {@code [channels, height, width]} of its first example, or null when it had none.
 * @param labelCount  the label columns of its first DataSet, or 0 when it had none.
 * @param firstSource where its first example came from, for error messages (e.g. "DataSet 0 of partition 2").
 * @param shards      one entry per class with examples, in class order.
 * @param problem     the first bad DataSet, described in one line naming the value, or null.
 */
record PartitionSummary(int partition, int[] chw, int labelCount, String firstSource, List<ClassShard> shards,
    String problem)
{
    /**
     * One shard: the examples of one class from one partition, in the partition's order.
     *
     * @param label  the class index.
     * @param file   its name relative to the staged root.
     * @param count  examples in it.
     * @param bytes  file size.
     * @param crc32c CRC32C of the file.
     */
    record ClassShard(int label, String file, int count, long bytes, long crc32c)
    {
    }

    /** Examples in the partition. */
    long examples()
    {
        return shards.stream().mapToLong(ClassShard::count).sum();
    }
}
