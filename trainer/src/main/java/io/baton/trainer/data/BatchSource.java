package io.baton.trainer.data;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * Where a replica's examples come from: random access by sample id, so any replica can read any slice of a global
 * batch (world-size invariance). Implementations must make an example's pixels a function of (seed, epoch, sample
 * id, train/eval) only.
 *
 * <p>Threading: {@link #load} is called from the replica's training thread; implementations may decode on their
 * own pool. {@link #close()} releases it.
 */
public interface BatchSource extends AutoCloseable
{
    /** Number of samples in the split. */
    int size();

    int numClasses();

    /**
     * Name of each class, index = label (for prepared data, the manifest's class folders or synsets); empty when the
     * source has no names (generated data).
     */
    default List<String> classNames()
    {
        return List.of();
    }

    /** {channels, height, width} of one example. */
    int[] shape();

    /** Class index of a sample (no decoding). */
    int label(int sampleId);

    /**
     * Features (NCHW float) and one-hot labels of the given samples, in the given order.
     *
     * @param train true for training augmentation, false for the deterministic evaluation transform.
     */
    Batch load(int[] sampleIds, long epoch, boolean train);

    /**
     * A hint that these samples will be loaded after those hinted before and not yet loaded (hints come in load
     * order, at most {@link #prefetchBatches()} ahead of the batch being trained on); the default ignores it.
     */
    default void prefetch(final int[] sampleIds, final long epoch, final boolean train)
    {
    }

    /** How many batches ahead of the one being trained on this source loads when hinted; 0 = none. */
    default int prefetchBatches()
    {
        return 0;
    }

    @Override
    default void close()
    {
    }

    /** Features and labels of one slice. */
    record Batch(INDArray features, INDArray labels)
    {
        public int size()
        {
            return (int) features.size(0);
        }
    }
}
