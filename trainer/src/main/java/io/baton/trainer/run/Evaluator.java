package io.baton.trainer.run;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.data.BatchSource;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.function.LongConsumer;

/**
 * Distributed evaluation in inference mode (BN running statistics, no communication inside the network): rank r of
 * N scores the contiguous block [r*n/N, (r+1)*n/N) of the split, and the counts are summed across ranks, so every
 * sample is counted exactly once whatever the world size.
 *
 * <p>Threading: call on every rank's training thread (the final sum is a collective).
 */
public final class Evaluator
{
    private Evaluator()
    {
    }

    /** Top-1 and top-5 accuracy and mean cross-entropy over a split. */
    public record Result(long samples, long top1Correct, long top5Correct, double lossSum)
        implements java.io.Serializable
    {
        public double top1()
        {
            return samples == 0 ? Double.NaN : (double) top1Correct / samples;
        }

        public double top5()
        {
            return samples == 0 ? Double.NaN : (double) top5Correct / samples;
        }

        public double loss()
        {
            return samples == 0 ? Double.NaN : lossSum / samples;
        }
    }

    public static Result evaluate(
        final ComputationGraph graph, final Communicator communicator, final BatchSource source, final int batchSize)
    {
        return evaluate(graph, communicator, source, batchSize, samples -> { });
    }

    /**
     * As {@link #evaluate(ComputationGraph, Communicator, BatchSource, int)}, telling {@code scored} after each batch
     * how many samples of that batch this rank scored (for progress).
     */
    public static Result evaluate(final ComputationGraph graph, final Communicator communicator,
        final BatchSource source, final int batchSize, final LongConsumer scored)
    {
        final int n = source.size();
        final int rank = communicator.rank();
        final int worldSize = communicator.worldSize();
        final int from = (int) ((long) rank * n / worldSize);
        final int to = (int) ((long) (rank + 1) * n / worldSize);
        final double[] counts = new double[4];
        for (int start = from; start < to; start += batchSize)
        {
            final int end = Math.min(to, start + batchSize);
            final int[] ids = new int[end - start];
            for (int i = 0; i < ids.length; i++)
            {
                ids[i] = start + i;
            }
            final BatchSource.Batch batch = source.load(ids, 0, false);
            final INDArray probabilities = graph.outputSingle(false, batch.features());
            score(probabilities, ids, source, counts);
            scored.accept(ids.length);
        }
        communicator.allReduceSmall(counts, ReduceOp.SUM);
        return new Result((long) counts[0], (long) counts[1], (long) counts[2], counts[3]);
    }

    private static void score(
        final INDArray probabilities, final int[] ids, final BatchSource source, final double[] counts)
    {
        final int classes = (int) probabilities.size(1);
        final float[] p = probabilities.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        for (int i = 0; i < ids.length; i++)
        {
            final int label = source.label(ids[i]);
            final float target = p[i * classes + label];
            int higher = 0;
            for (int c = 0; c < classes; c++)
            {
                // Ties count against the sample, so a constant output never scores.
                if (c != label && p[i * classes + c] >= target)
                {
                    higher++;
                }
            }
            counts[0] += 1;
            counts[1] += higher == 0 ? 1 : 0;
            counts[2] += higher < 5 ? 1 : 0;
            counts[3] += -Math.log(Math.max(target, 1e-12f));
        }
    }
}
