package io.baton.trainer.data.synthetic;

import io.baton.trainer.data.AugmentationSeeds;
import io.baton.trainer.data.BatchSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link PatternImages} served straight from memory as a {@link BatchSource}: pixels scaled to [-1, 1], training
 * augmentation a horizontal flip keyed on (seed, epoch, sample id). For tests and for measuring the trainer without
 * an image pipeline. Thread-safe.
 */
public final class PatternBatchSource implements BatchSource
{
    private final PatternImages images;
    private final int size;
    private final long seed;

    public PatternBatchSource(final PatternImages images, final int size, final long seed)
    {
        this.images = images;
        this.size = size;
        this.seed = seed;
    }

    @Override
    public int size()
    {
        return size;
    }

    @Override
    public int numClasses()
    {
        return images.numClasses();
    }

    @Override
    public int[] shape()
    {
        return new int[] {3, images.height(), images.width()};
    }

    @Override
    public int label(final int sampleId)
    {
        return images.label(sampleId);
    }

    @Override
    public Batch load(final int[] sampleIds, final long epoch, final boolean train)
    {
        final int h = images.height();
        final int w = images.width();
        final int plane = h * w;
        final float[] features = new float[sampleIds.length * 3 * plane];
        final float[] labels = new float[sampleIds.length * images.numClasses()];
        for (int i = 0; i < sampleIds.length; i++)
        {
            final int id = sampleIds[i];
            final int[] rgb = images.rgb(id);
            final boolean flip = train && (AugmentationSeeds.seed(seed, epoch, id) & 1) == 1;
            final int base = i * 3 * plane;
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    final int pixel = rgb[y * w + (flip ? w - 1 - x : x)];
                    final int offset = y * w + x;
                    features[base + offset] = ((pixel >> 16) & 0xFF) / 127.5f - 1f;
                    features[base + plane + offset] = ((pixel >> 8) & 0xFF) / 127.5f - 1f;
                    features[base + 2 * plane + offset] = (pixel & 0xFF) / 127.5f - 1f;
                }
            }
            labels[i * images.numClasses() + images.label(id)] = 1f;
        }
        final INDArray x = Nd4j.create(features, new long[] {sampleIds.length, 3, h, w}, 'c');
        final INDArray y = Nd4j.create(labels, new long[] {sampleIds.length, images.numClasses()}, 'c');
        return new Batch(x, y);
    }
}
