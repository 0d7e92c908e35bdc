package io.baton.trainer.data;

import io.baton.trainer.data.shard.ShardedDataset;
import io.baton.trainer.data.shard.TensorEncoding;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A prepared split of float tensors ({@link TensorEncoding}, e.g. a staged DL4J DataSet RDD) served as a
 * {@link BatchSource}: each example exactly as stored, in training and in evaluation alike (no augmentation: the
 * examples were preprocessed by their owner), so a batch is a function of the sample ids only.
 *
 * <p>Threading: one consumer thread (the replica's training thread); reads are synchronous.
 */
final class TensorBatchSource implements BatchSource
{
    private final ShardedDataset dataset;
    private final int[] chw;
    private final int numClasses;

    TensorBatchSource(final ShardedDataset dataset)
    {
        this.dataset = dataset;
        this.chw = TensorEncoding.shape(dataset.manifest());
        this.numClasses = dataset.classes().size();
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
        return chw.clone();
    }

    @Override
    public int label(final int sampleId)
    {
        return dataset.label(sampleId);
    }

    @Override
    public Batch load(final int[] sampleIds, final long epoch, final boolean train)
    {
        final int length = chw[0] * chw[1] * chw[2];
        final float[] features = new float[sampleIds.length * length];
        final float[] labels = new float[sampleIds.length * numClasses];
        try
        {
            for (int i = 0; i < sampleIds.length; i++)
            {
                TensorEncoding.decode(dataset.bytes(sampleIds[i]), features, i * length, length);
                labels[i * numClasses + dataset.label(sampleIds[i])] = 1f;
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("reading tensor samples of split " + dataset.split() + ": "
                + ex.getMessage(), ex);
        }
        return new Batch(Nd4j.create(features, new long[] {sampleIds.length, chw[0], chw[1], chw[2]}, 'c'),
            Nd4j.create(labels, new long[] {sampleIds.length, numClasses}, 'c'));
    }

    @Override
    public void close()
    {
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
