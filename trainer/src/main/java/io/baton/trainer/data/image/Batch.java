package io.baton.trainer.data.image;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One decoded and transformed batch (a replica's slice of a global batch). Immutable by convention: the arrays are
 * not copied.
 *
 * @param sampleIds the samples, in order.
 * @param features  {@code n x 3 x size x size} floats, NCHW.
 * @param labels    class index of each sample.
 * @param size      side of each image.
 */
public record Batch(long[] sampleIds, float[] features, int[] labels, int size)
{
    /** Samples in the batch. */
    public int count()
    {
        return sampleIds.length;
    }

    /** The features as an NCHW INDArray (copies into ND4J memory). */
    public INDArray featuresArray()
    {
        return Nd4j.create(features, new long[] {count(), 3, size, size}, 'c');
    }

    /** One-hot labels, {@code n x numClasses}. */
    public INDArray oneHotLabels(final int numClasses)
    {
        final float[] oneHot = new float[count() * numClasses];
        for (int i = 0; i < labels.length; i++)
        {
            if (labels[i] < 0 || labels[i] >= numClasses)
            {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + sampleIds[i]
                    + " not in [0, " + numClasses + ")");
            }
            oneHot[i * numClasses + labels[i]] = 1f;
        }
        return Nd4j.create(oneHot, new long[] {count(), numClasses}, 'c');
    }
}
