package io.baton.api.dl4j;

import io.baton.common.store.HadoopConf;
import io.baton.trainer.data.shard.Manifest;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;

import java.io.IOException;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;

/**
 * The RDDs a {@link BatonTrainingMaster} has staged, so that a later {@code fit} on the same RDD trains on the data
 * the first one staged instead of writing it again. The same RDD is the same RDD id in the same Spark application
 * (application id and start time) with the same number of partitions.
 *
 * <p>Reusing the staged data is exact under the assumption Spark itself makes when it recomputes a lost partition:
 * an RDD is deterministic, so staging it again would write the same examples in the same order, hence the same
 * sample ids, batches and data identity. An RDD whose content changes between evaluations (e.g. a random sample
 * without a fixed seed) is the caller's to stage again: give {@code fit} a new RDD for it.
 *
 * <p>Threading: used by one {@code fit} at a time, as its master.
 */
final class StagedRdds
{
    /** One RDD's identity within its Spark application. */
    record Key(String applicationId, long contextStartMs, int rddId, int partitions)
    {
        static Key of(final JavaRDD<?> rdd)
        {
            return new Key(rdd.context().applicationId(), rdd.context().startTime(), rdd.id(),
                rdd.getNumPartitions());
        }
    }

    private final Map<Key, DataSetStaging.Staged> byRdd = new HashMap<>();

    /**
     * The data {@code rdd} was staged into by an earlier fit, or null when it was not staged, or its staged data is
     * gone (deleted by {@code deleteTempFiles} or by hand: then it is forgotten and staged again).
     */
    DataSetStaging.Staged find(final JavaRDD<?> rdd)
    {
        final Key key = Key.of(rdd);
        final DataSetStaging.Staged staged = byRdd.get(key);
        if (staged != null && !hasManifest(staged.uri()))
        {
            byRdd.remove(key);
            return null;
        }
        return staged;
    }

    /** Remembers where {@code rdd} was staged. */
    void add(final JavaRDD<?> rdd, final DataSetStaging.Staged staged)
    {
        byRdd.put(Key.of(rdd), staged);
    }

    /** Forgets every RDD (their staged data was deleted). */
    void clear()
    {
        byRdd.clear();
    }

    /** The manifest is written last, so a staged directory that has it is complete. */
    private static boolean hasManifest(final String uri)
    {
        final Path manifest = new Path(new Path(URI.create(uri)), Manifest.FILE_NAME);
        try (FileSystem fs = FileSystem.newInstance(manifest.toUri(), HadoopConf.fresh()))
        {
            return fs.exists(manifest);
        }
        catch (final IOException ex)
        {
            // Unreadable now: staging again is the safe choice.
            return false;
        }
    }
}
