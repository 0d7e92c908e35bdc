package io.baton.api.dl4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Arrays;

/**
 * What a DataSet must be for Baton to train on it exactly: NCHW features, one-hot labels with one label column per
 * class, no masks, and the same example shape and label count as every other DataSet of the RDD. Each check gives
 * one line naming the DataSet and the bad value, or null. Stateless.
 */
final class DataSetChecks
{
    private DataSetChecks()
    {
    }

    /**
     * The first problem of {@code ds}, or null.
     *
     * @param expectedChw    the example shape seen first, or null when {@code ds} is the first.
     * @param expectedLabels the label count seen first (unused when {@code expectedChw} is null).
     * @param firstSource    where the first one came from.
     */
    static String problem(final DataSet ds, final String source, final int[] expectedChw, final int expectedLabels,
        final String firstSource)
    {
        if (ds.getFeatures() == null || ds.getLabels() == null)
        {
            return source + " has no " + (ds.getFeatures() == null ? "features" : "labels");
        }
        if (ds.getFeaturesMaskArray() != null || ds.getLabelsMaskArray() != null)
        {
            return source + " has a " + (ds.getFeaturesMaskArray() != null ? "features" : "labels") + " mask; "
                + "BatonTrainingMaster trains CNN classifiers on whole examples and takes no masks";
        }
        final long[] features = ds.getFeatures().shape();
        final long[] labels = ds.getLabels().shape();
        if (features.length != 4)
        {
            return source + " has features of shape " + Arrays.toString(features) + "; BatonTrainingMaster needs "
                + "images as [examples, channels, height, width]";
        }
        if (labels.length != 2 || labels[0] != features[0])
        {
            return source + " has labels of shape " + Arrays.toString(labels) + " for features of shape "
                + Arrays.toString(features) + "; expected [" + features[0] + ", classes] (one-hot)";
        }
        if (expectedChw != null)
        {
            final int[] chw = {(int) features[1], (int) features[2], (int) features[3]};
            if (!Arrays.equals(chw, expectedChw))
            {
                return source + " has examples of shape [channels, height, width] = " + Arrays.toString(chw)
                    + " but " + firstSource + " has " + Arrays.toString(expectedChw)
                    + "; every example of the RDD must have the same shape";
            }
            if (labels[1] != expectedLabels)
            {
                return source + " has " + labels[1] + " label columns but " + firstSource + " has " + expectedLabels
                    + "; every DataSet of the RDD must have one column per class of the same classes";
            }
        }
        final float[] values = ds.getLabels().castTo(DataType.FLOAT).dup('c').data().asFloat();
        final int classes = (int) labels[1];
        for (int i = 0; i < labels[0]; i++)
        {
            if (hotIndex(values, i * classes, classes) < 0)
            {
                return source + " example " + i + " has labels " + Arrays.toString(Arrays.copyOfRange(values,
                    i * classes, (i + 1) * classes)) + ", not one-hot; BatonTrainingMaster trains classifiers on "
                    + "one-hot labels";
            }
        }
        return null;
    }

    /** The index of the single 1 of a one-hot row, or -1 when the row is not one-hot. */
    static int hotIndex(final float[] values, final int offset, final int length)
    {
        int hot = -1;
        for (int c = 0; c < length; c++)
        {
            final float v = values[offset + c];
            if (v == 1f && hot < 0)
            {
                hot = c;
            }
            else if (v != 0f)
            {
                return -1;
            }
        }
        return hot;
    }
}
