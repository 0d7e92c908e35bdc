package io.baton.trainer.data;

import io.baton.trainer.data.image.BatchLoader;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.TrainTransform;
import io.baton.trainer.data.image.TransformSpec;
import io.baton.trainer.data.image.ValTransform;
import io.baton.trainer.data.shard.ShardedDataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A prepared split ({@link ShardedDataset}) served as a {@link BatchSource}: JPEG/PNG decoding and augmentation on
 * the loader's thread pool, with the next slice prefetched while the current step trains. Training transform
 * RandomResizedCrop (or pad-crop) + flip keyed on (seed, epoch, sample id); evaluation transform resize + center
 * crop; both as the {@link TransformSpec} says.
 *
 * <p>Threading: one consumer thread (the replica's training thread).
 */
public final class ShardBatchSource implements BatchSource
{
    private final ShardedDataset dataset;
    private final BatchLoader trainLoader;
    private final BatchLoader evalLoader;
    private final int imageSize;
    private final int numClasses;

    private CompletableFuture<io.baton.trainer.data.image.Batch> pending;
    private long[] pendingIds;
    private long pendingEpoch;
    private boolean pendingTrain;

    public ShardBatchSource(
        final ShardedDataset dataset,
        final ImageDecoder decoder,
        final int imageSize,
        final long seed,
        final TransformSpec spec,
        final int threads,
        final int prefetchBatches)
    {
        this.dataset = dataset;
        this.imageSize = imageSize;
        this.numClasses = dataset.classes().size();
        this.trainLoader = new BatchLoader(dataset, decoder, new TrainTransform(imageSize, seed, spec), threads,
            prefetchBatches);
        this.evalLoader = new BatchLoader(dataset, decoder, new ValTransform(imageSize, spec), threads,
            prefetchBatches);
    }

    @Override
    public int size()
    {
        return (int) dataset.size();
    }

    @Override
    public int numClasses()
    {
        return numClasses;
    }

    @Override
    public List<String> classNames()
    {
        return dataset.classes();
    }

    @Override
    public int[] shape()
    {
        return new int[] {3, imageSize, imageSize};
    }

    @Override
    public int label(final int sampleId)
    {
        return dataset.label(sampleId);
    }

    @Override
    public Batch load(final int[] sampleIds, final long epoch, final boolean train)
    {
        final long[] ids = Arrays.stream(sampleIds).asLongStream().toArray();
        final CompletableFuture<io.baton.trainer.data.image.Batch> future;
        if (pending != null && pendingEpoch == epoch && pendingTrain == train && Arrays.equals(pendingIds, ids))
        {
            future = pending;
        }
        else
        {
            if (pending != null)
            {
                pending.cancel(false);
            }
            future = (train ? trainLoader : evalLoader).submit(epoch, ids);
        }
        pending = null;
        final io.baton.trainer.data.image.Batch batch = future.join();
        return new Batch(batch.featuresArray(), batch.oneHotLabels(numClasses));
    }

    @Override
    public void prefetch(final int[] sampleIds, final long epoch, final boolean train)
    {
        pendingIds = Arrays.stream(sampleIds).asLongStream().toArray();
        pendingEpoch = epoch;
        pendingTrain = train;
        pending = (train ? trainLoader : evalLoader).submit(epoch, pendingIds);
    }

    @Override
    public void close()
    {
        trainLoader.close();
        evalLoader.close();
        try
        {
            dataset.close();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
