package io.baton.trainer.data;

import io.baton.trainer.data.image.BatchLoader;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.TrainTransform;
import io.baton.trainer.data.image.TransformSpec;
import io.baton.trainer.data.image.ValTransform;
import io.baton.trainer.data.shard.ShardedDataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A prepared split ({@link ShardedDataset}) served as a {@link BatchSource}: JPEG/PNG decoding and augmentation on
 * the loader's thread pool, with up to data.prefetch-batches of the next slices loading while the current step
 * trains (the training loop hints them in order, {@link BatchSource#prefetch}). Training transform
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

    private final int prefetchBatches;
    /** Batches hinted by {@link #prefetch} and loading, in the order they will be asked for; at most prefetchBatches. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

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
        this.prefetchBatches = prefetchBatches;
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
        final Pending head = pending.peekFirst();
        final CompletableFuture<io.baton.trainer.data.image.Batch> future;
        if (head != null && head.is(ids, epoch, train))
        {
            future = pending.removeFirst().future();
        }
        else
        {
            // Not what was hinted (a resume, another split): what was loading ahead is not needed.
            cancelPending();
            future = (train ? trainLoader : evalLoader).submit(epoch, ids);
        }
        final io.baton.trainer.data.image.Batch batch = future.join();
        return new Batch(batch.featuresArray(), batch.oneHotLabels(numClasses));
    }

    /**
     * Starts loading these samples unless data.prefetch-batches batches are already loading ahead (then the hint is
     * dropped) or they are already loading.
     */
    @Override
    public void prefetch(final int[] sampleIds, final long epoch, final boolean train)
    {
        final long[] ids = Arrays.stream(sampleIds).asLongStream().toArray();
        if (pending.size() >= prefetchBatches || pending.stream().anyMatch(p -> p.is(ids, epoch, train)))
        {
            return;
        }
        pending.addLast(new Pending(ids, epoch, train, (train ? trainLoader : evalLoader).submit(epoch, ids)));
    }

    @Override
    public int prefetchBatches()
    {
        return prefetchBatches;
    }

    /** Batches hinted and not yet asked for: loading, or loaded and waiting. */
    public int pendingBatches()
    {
        return pending.size();
    }

    /** Of the {@link #pendingBatches()}, those completely loaded. */
    public int readyBatches()
    {
        return (int)pending.stream().filter(p -> p.future().isDone() && !p.future().isCompletedExceptionally())
            .count();
    }

    private void cancelPending()
    {
        pending.forEach(p -> p.future().cancel(false));
        pending.clear();
    }

    @Override
    public void close()
    {
        cancelPending();
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

    /** One batch loading ahead. */
    private record Pending(long[] ids, long epoch, boolean train,
        CompletableFuture<io.baton.trainer.data.image.Batch> future)
    {
        boolean is(final long[] otherIds, final long otherEpoch, final boolean otherTrain)
        {
            return epoch == otherEpoch && train == otherTrain && Arrays.equals(ids, otherIds);
        }
    }
}
