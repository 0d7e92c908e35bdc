package io.baton.coordinator.prepare;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Where {@link PrepareJob} takes its images from: an image tree or ImageNet's tars ({@link FileSource}), or tables
 * with an image and a label column ({@link FrameSource}). A source names the classes, lists each split in sample-id
 * order (sorted by label, then path or name) and writes the shards of a split's tasks; the job does the rest
 * (output folder, sample ids, manifest), the same for every source.
 */
interface PrepareSource
{
    /** The class names; a label is an index into this list. */
    List<String> classes() throws IOException;

    /** The images of {@code split} in sample-id order, with what is ignored or known unreadable. */
    SplitPlan scan(String split, List<String> classes) throws IOException;

    /** Writes one shard per task as a Spark job; the results in any order. */
    List<ShardResult> write(JavaSparkContext sc, SplitPlan plan, List<ShardTask> tasks, int numClasses,
        LongAccumulator filesDone, LongAccumulator bytesDone) throws IOException;

    /** What the manifest records about the input, besides the options. */
    Map<String, Object> describe();
}
