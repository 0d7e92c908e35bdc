package io.baton.coordinator.prepare;

import java.io.Serializable;
import java.util.List;

/**
 * The work of one Spark task: turn a contiguous run of a split's input files into one shard.
 *
 * @param split  split name.
 * @param index  shard number within the split.
 * @param files  the files, in sample-id order.
 */
public record ShardTask(String split, int index, List<InputFile> files) implements Serializable
{
    /**
     * Cuts a split's files, in order, into shards of about {@code shardBytes} input bytes each (a shard holds at
     * least one file, so a file larger than the target is a shard of its own).
     */
    public static List<ShardTask> plan(final SplitPlan plan, final long shardBytes)
    {
        final List<ShardTask> tasks = new java.util.ArrayList<>();
        List<InputFile> current = new java.util.ArrayList<>();
        long bytes = 0;
        for (final InputFile file : plan.files())
        {
            if (!current.isEmpty() && bytes + file.length() > shardBytes)
            {
                tasks.add(new ShardTask(plan.split(), tasks.size(), current));
                current = new java.util.ArrayList<>();
                bytes = 0;
            }
            current.add(file);
            bytes += file.length();
        }
        if (!current.isEmpty())
        {
            tasks.add(new ShardTask(plan.split(), tasks.size(), current));
        }
        return tasks;
    }
}
