package io.baton.trainer.syncbn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-channel local sums SyncBatchNorm all-reduces, accumulated in double. Channels are dimension 1 of a rank-2
 * {@code [N, C]} or rank-4 NCHW {@code [N, C, H, W]} array; the sums run over every other dimension.
 *
 * <p>Thread-safe (stateless); allocates temporaries in the caller's current workspace.
 */
final class StatSums
{
    private StatSums()
    {
    }

    /**
     * Writes {@code sum(x - shift)} into {@code out[0, C)} and {@code sum((x - shift)^2)} into {@code out[C, 2C)}.
     * The shift (the running mean, equal on every replica) keeps the variance free of catastrophic cancellation.
     */
    static void shifted(final INDArray x, final double[] shift, final double[] out)
    {
        final int channels = shift.length;
        final INDArray centred = doubleCopy(x);
        Nd4j.getExecutioner().exec(new BroadcastSubOp(centred, Nd4j.createFromArray(shift), centred, 1));
        final int[] dims = reductionDims(x);
        copy(centred.sum(dims).toDoubleVector(), out, 0, channels);
        centred.muli(centred);
        copy(centred.sum(dims).toDoubleVector(), out, channels, channels);
    }

    /** Writes {@code sum(dy)} into {@code out[0, C)} and {@code sum(dy * xHat)} into {@code out[C, 2C)}. */
    static void gradient(final INDArray dy, final INDArray xHat, final double[] out)
    {
        final int channels = out.length / 2;
        final int[] dims = reductionDims(dy);
        final INDArray dyD = doubleCopy(dy);
        copy(dyD.sum(dims).toDoubleVector(), out, 0, channels);
        dyD.muli(xHat.castTo(DataType.DOUBLE));
        copy(dyD.sum(dims).toDoubleVector(), out, channels, channels);
    }

    private static INDArray doubleCopy(final INDArray x)
    {
        return x.dataType() == DataType.DOUBLE ? x.dup() : x.castTo(DataType.DOUBLE);
    }

    private static int[] reductionDims(final INDArray x)
    {
        return x.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
    }

    private static void copy(final double[] from, final double[] to, final int offset, final int length)
    {
        if (from.length != length)
        {
            throw new IllegalStateException("expected " + length + " per-channel sums, got " + from.length);
        }
        System.arraycopy(from, 0, to, offset, length);
    }
}
