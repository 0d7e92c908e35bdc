package io.baton.trainer.replica;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.ParamSegment;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One synchronous data-parallel step of a {@link ComputationGraph} replica: forward/backward on the local slice,
 * in-place all-reduce of the flat gradient, DL4J updater, parameter update, iteration + 1. The recipe is the one
 * that equals {@code fit()} bit-exactly in DL4J 1.0.0-M2.1 (see PLATFORM.md).
 *
 * <h2>Gradient contract</h2>
 * DL4J layers produce gradients summed over their local examples and the updater divides by the minibatch size.
 * This class all-reduces the flat gradient with SUM and passes the <em>global</em> batch size g to the updater, so
 * parameters see sum-over-global-batch / g: exactly the single-replica gradient of the concatenated batch, also
 * when slices are uneven. The NoOp-updated slots that are not divided by the minibatch (BN running-stat deltas)
 * are instead averaged (x 1/N after the SUM): with SyncBatchNorm they are equal on every rank of a group, so the
 * average is that value (to one rounding) and identical on every rank; with plain BN it is the mean of the local
 * deltas. Either way every rank applies the same bits.
 *
 * <h2>Two update paths</h2>
 * With a {@link LargeBatchSgd} (the replica-training path, {@link #step(INDArray, INDArray, int, double)}) the
 * summed flat gradient goes to Baton's optimiser, which divides it by the global batch, averages the running-stat
 * slots and applies momentum SGD with masked weight decay, LARS and clipping; DL4J's updater is not used. Without
 * one, DL4J's configured updater is used exactly as {@code fit()} would (the bit-exactness reference), with the
 * learning rate of the four-argument step set through {@code graph.setLearningRate}.
 *
 * <h2>Overlapped all-reduce</h2>
 * With an {@link OverlappedAllReduce} ({@link #overlap}) the same SUM is computed in buckets while backward still
 * runs, on a second communicator; the step waits for the last bucket where it would otherwise all-reduce.
 *
 * <h2>Identity of replicas</h2>
 * {@link #broadcastInitialState()} copies rank 0's parameters, updater state (DL4J's and the momentum buffer of
 * the {@link LargeBatchSgd}, if any) and iteration/epoch counters to every rank; from then on every rank applies identical updates, so parameters stay bit-identical. Every
 * {@code checksumEverySteps} steps (0 = never) a checksum of the parameters is all-gathered and a mismatch throws
 * {@link ReplicaDivergenceException} naming the step and ranks.
 *
 * <h2>Non-finite gradients</h2>
 * After the all-reduce and before any parameter changes, a summed gradient holding a NaN or an infinity makes
 * {@link #step} throw {@link NonFiniteStepException} on every rank alike (they all hold the same summed gradient),
 * leaving parameters and optimiser state as they were before the step.
 *
 * <p>Threading: one training thread per replica, the communicator's thread. Every rank must call the same methods
 * in the same order (they are collectives).
 */
public final class SynchronousStep
{
    private final ComputationGraph graph;
    private final Communicator communicator;
    private final int checksumEverySteps;
    private final LargeBatchSgd optimizer;
    private final ParamLayout layout;
    private final BatchAccuracyProbe accuracy;
    private OverlappedAllReduce overlap;
    private long completedSteps;
    private long lastCorrect = -1;

    /**
     * A replica updated by DL4J's configured updater (the {@code fit()}-equivalent path).
     *
     * @param graph              an initialised graph (SyncBatchNorm layers already bound, if any).
     * @param communicator       the world communicator.
     * @param checksumEverySteps compare parameter checksums after every K-th step; 0 disables.
     */
    public SynchronousStep(final ComputationGraph graph, final Communicator communicator, final int checksumEverySteps)
    {
        this(graph, communicator, checksumEverySteps, null);
    }

    /**
     * A replica updated by Baton's optimiser, or by DL4J's updater when {@code optimizer} is null.
     *
     * @param graph              an initialised graph (SyncBatchNorm layers already bound, if any).
     * @param communicator       the world communicator.
     * @param checksumEverySteps compare parameter checksums after every K-th step; 0 disables.
     * @param optimizer          built for this graph's layout, or null for DL4J's updater.
     */
    public SynchronousStep(
        final ComputationGraph graph, final Communicator communicator, final int checksumEverySteps,
        final LargeBatchSgd optimizer)
    {
        if (checksumEverySteps < 0)
        {
            throw new IllegalArgumentException("checksumEverySteps must be >= 0, was " + checksumEverySteps);
        }
        if (graph.params().dataType() != DataType.FLOAT)
        {
            throw new IllegalArgumentException("replica training needs FLOAT parameters, got "
                + graph.params().dataType());
        }
        this.graph = graph;
        this.communicator = communicator;
        this.checksumEverySteps = checksumEverySteps;
        this.optimizer = optimizer;
        this.layout = optimizer != null ? optimizer.layout() : ParamLayout.of(graph);
        if (optimizer == null && !hasDl4jUpdater(graph, layout))
        {
            throw new IllegalArgumentException("every trainable parameter of this graph uses DL4J's NoOp updater "
                + "(a recipe graph?): construct SynchronousStep with a LargeBatchSgd");
        }
        if (layout.length() != graph.numParams())
        {
            throw new IllegalArgumentException("optimizer was built for " + layout.length()
                + " parameters, the graph has " + graph.numParams());
        }
        this.accuracy = BatchAccuracyProbe.attach(graph);
    }

    /**
     * Reduces the gradient with {@code overlap} from now on: its buckets are all-reduced while backward still runs,
     * instead of the whole vector after it. Call before the first step, on every rank alike.
     *
     * @param overlap built for this step's graph on a communicator of the same world; null goes back to the plain
     *                all-reduce.
     * @return this.
     */
    public SynchronousStep overlap(final OverlappedAllReduce overlap)
    {
        if (overlap != null && overlap.plan().length() != graph.numParams())
        {
            throw new IllegalArgumentException("overlapped all-reduce was planned for " + overlap.plan().length()
                + " floats, the graph has " + graph.numParams() + " parameters");
        }
        this.overlap = overlap;
        return this;
    }

    /** Nanoseconds this replica waited for the overlapped gradient all-reduce after backward (0 without one). */
    public long overlapWaitNs()
    {
        return overlap == null ? 0 : overlap.exposedNs();
    }

    /** Messages the overlapped all-reduce's communicator refused since it was set (0 without one). */
    public long overlapRejectedMessages()
    {
        return overlap == null ? 0 : overlap.rejectedMessages();
    }

    /** Baton's optimiser, or null when DL4J's updater is used. */
    public LargeBatchSgd optimizer()
    {
        return optimizer;
    }

    /** Steps completed by this object. */
    public long completedSteps()
    {
        return completedSteps;
    }

    /** Rank 0's parameters, updater state and iteration/epoch counts replace every other rank's. A collective. */
    public void broadcastInitialState()
    {
        broadcast(graph.params());
        final INDArray state = graph.getUpdater().getStateViewArray();
        final long stateLength = state == null ? 0 : state.length();
        final byte[] header = communicator.broadcastBytes(ByteBuffer.allocate(16)
            .putInt(graph.getConfiguration().getIterationCount())
            .putInt(graph.getConfiguration().getEpochCount())
            .putLong(stateLength).array(), 0);
        final ByteBuffer h = ByteBuffer.wrap(header);
        graph.getConfiguration().setIterationCount(h.getInt());
        graph.getConfiguration().setEpochCount(h.getInt());
        final long rootStateLength = h.getLong();
        if (rootStateLength != stateLength)
        {
            throw new IllegalStateException("updater state length " + stateLength + " on rank " + communicator.rank()
                + " differs from rank 0's " + rootStateLength + ": replicas were built from different configurations");
        }
        if (state != null)
        {
            broadcast(state);
        }
        if (optimizer != null)
        {
            broadcast(optimizer.momentumBuffer());
        }
    }

    /**
     * One synchronous step.
     *
     * @param features        this replica's slice (at least one example).
     * @param labels          its labels.
     * @param globalBatchSize examples in the global batch (the sum of every rank's slice).
     * @return this replica's local score (mean loss over its slice).
     * @throws IllegalStateException when this step was built with Baton's optimiser (use the four-argument step).
     */
    public double step(final INDArray features, final INDArray labels, final int globalBatchSize)
    {
        if (optimizer != null)
        {
            throw new IllegalStateException("this SynchronousStep uses LargeBatchSgd: call step(features, labels, "
                + "globalBatchSize, lr)");
        }
        return dl4jStep(features, labels, globalBatchSize, () -> { }).localLoss();
    }

    /**
     * One synchronous step at learning rate {@code lr}: Baton's optimiser if this step has one, else DL4J's
     * updater after {@code graph.setLearningRate(lr)}.
     *
     * @param features        this replica's slice (at least one example).
     * @param labels          its labels.
     * @param globalBatchSize examples in the global batch (the sum of every rank's slice).
     * @param lr              learning rate of this step, e.g. from the LrSchedule.
     * @return local loss and global gradient norm.
     */
    public StepResult step(final INDArray features, final INDArray labels, final int globalBatchSize, final double lr)
    {
        return step(features, labels, globalBatchSize, lr, () -> { });
    }

    /**
     * Like {@link #step(INDArray, INDArray, int, double)}, running {@code beforeUpdate} once the all-reduced gradient
     * is known to be finite and before the parameters or any optimiser state are written. Until then the step only
     * reads them (forward, backward; running-stat deltas travel in the gradient), so a checkpoint snapshot of them
     * may still be in progress: {@code beforeUpdate} is where the caller waits for it. It runs on this thread, on
     * every rank, and is not a collective; it is not run for a non-finite step.
     */
    public StepResult step(final INDArray features, final INDArray labels, final int globalBatchSize, final double lr,
        final Runnable beforeUpdate)
    {
        if (optimizer == null)
        {
            graph.setLearningRate(lr);
            return dl4jStep(features, labels, globalBatchSize, beforeUpdate);
        }
        final double score = forwardBackward(features, labels);
        final INDArray flat = graph.getFlattenedGradients();
        reduceGradient(flat);
        requireFiniteGradient(flat, score);
        beforeUpdate.run();
        final LargeBatchSgd.UpdateStats stats = optimizer.apply(graph.params(), flat, globalBatchSize,
            communicator.worldSize(), lr);
        finishStep();
        return new StepResult(score, stats.gradientNorm(), stats.clipFactor(), lastCorrect);
    }

    private double forwardBackward(final INDArray features, final INDArray labels)
    {
        graph.setInputs(features);
        graph.setLabels(labels);
        accuracy.arm(labels);
        if (overlapped())
        {
            // Its constructor initialised the gradient view.
            overlap.begin(graph.getFlattenedGradients());
        }
        graph.computeGradientAndScore();
        lastCorrect = accuracy.correct();
        return graph.score();
    }

    private StepResult dl4jStep(final INDArray features, final INDArray labels, final int globalBatchSize,
        final Runnable beforeUpdate)
    {
        final double score = forwardBackward(features, labels);
        final Gradient gradient = graph.gradient();
        final INDArray flat = graph.getFlattenedGradients();
        reduceGradient(flat);
        requireFiniteGradient(flat, score);
        averageUndividedSlots(gradient);

        final int iteration = graph.getConfiguration().getIterationCount();
        final int epoch = graph.getConfiguration().getEpochCount();
        final double norm = gradientNorm(flat, globalBatchSize);
        // setLearningRate above rebuilt the updater into a new state array (the old one is only read), so a
        // snapshot of the previous step's state is still intact here.
        beforeUpdate.run();
        graph.getUpdater().update(gradient, iteration, epoch, globalBatchSize, LayerWorkspaceMgr.noWorkspaces());
        final INDArray params = graph.params();
        params.subi(flat.reshape(params.shape()));
        finishStep();
        return new StepResult(score, norm, 1.0, lastCorrect);
    }

    private void finishStep()
    {
        graph.getConfiguration().setIterationCount(graph.getConfiguration().getIterationCount() + 1);
        completedSteps++;
        if (checksumEverySteps > 0 && completedSteps % checksumEverySteps == 0)
        {
            ParamChecksum.verify(communicator, graph.params(), completedSteps);
        }
    }

    /** L2 norm of the summed gradient / G over trainable slots, read before DL4J's updater transforms it. */
    private double gradientNorm(final INDArray flatSum, final int globalBatchSize)
    {
        final INDArray vector = flatSum.reshape(flatSum.length());
        double sum = 0;
        for (final ParamSegment s : layout.segments())
        {
            if (s.kind().trainable())
            {
                final double n = vector.get(NDArrayIndex.interval(s.offset(), s.end())).norm2Number().doubleValue();
                sum += n * n;
            }
        }
        return Math.sqrt(sum) / globalBatchSize;
    }

    /**
     * Throws before any parameter changes when the summed gradient holds a NaN or an infinity (or overflows a float
     * sum). The gradient is the all-reduced one, so every rank decides the same and throws at the same step.
     */
    private void requireFiniteGradient(final INDArray flatSum, final double localLoss)
    {
        final double sum = flatSum.sumNumber().doubleValue();
        if (!Double.isFinite(sum))
        {
            throw new NonFiniteStepException(completedSteps, localLoss, sum);
        }
    }

    /** Compares parameter checksums across ranks now (a collective). */
    public void verifyReplicasIdentical()
    {
        ParamChecksum.verify(communicator, graph.params(), completedSteps);
    }

    private boolean overlapped()
    {
        return overlap != null && communicator.worldSize() > 1;
    }

    /** SUM over ranks of the flat gradient, in place: the overlapped buckets' end, or one all-reduce. */
    private void reduceGradient(final INDArray flat)
    {
        if (overlapped())
        {
            overlap.finish();
        }
        else
        {
            allReduceSum(flat);
        }
    }

    private void allReduceSum(final INDArray flat)
    {
        if (communicator.worldSize() == 1)
        {
            return;
        }
        if (isDenseFloat(flat))
        {
            communicator.allReduce(DenseFloats.hostAddress(flat), flat.length(), ReduceOp.SUM);
            DenseFloats.written(flat);
        }
        else
        {
            final float[] copy = flat.dup('c').data().asFloat();
            communicator.allReduce(copy, ReduceOp.SUM);
            flat.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(copy).reshape(flat.shape()));
        }
    }

    private void broadcast(final INDArray flat)
    {
        if (communicator.worldSize() == 1)
        {
            return;
        }
        if (isDenseFloat(flat))
        {
            communicator.broadcast(DenseFloats.hostAddress(flat), flat.length(), 0);
            DenseFloats.written(flat);
        }
        else
        {
            final float[] copy = flat.dup('c').data().asFloat();
            communicator.broadcast(copy, 0, copy.length, 0);
            flat.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(copy).reshape(flat.shape()));
        }
    }

    /** Scales by 1/N the gradient slots the updater does not divide by the minibatch (BN running-stat deltas). */
    private void averageUndividedSlots(final Gradient gradient)
    {
        if (communicator.worldSize() == 1)
        {
            return;
        }
        final float inverse = 1.0f / communicator.worldSize();
        for (final INDArray slot : undividedSlots(gradient))
        {
            slot.muli(inverse);
        }
    }

    private List<INDArray> undividedSlots(final Gradient gradient)
    {
        final List<INDArray> out = new ArrayList<>();
        for (final Map.Entry<String, INDArray> e : gradient.gradientForVariable().entrySet())
        {
            final int separator = e.getKey().lastIndexOf('_');
            final Layer layer = graph.getLayer(e.getKey().substring(0, separator));
            if (!layer.updaterDivideByMinibatch(e.getKey().substring(separator + 1)))
            {
                out.add(e.getValue());
            }
        }
        return out;
    }

    private static boolean hasDl4jUpdater(final ComputationGraph graph, final ParamLayout layout)
    {
        for (final Layer layer : graph.getLayers())
        {
            final org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            for (final String key : layer.paramTable().keySet())
            {
                if (layout.segment(conf.getLayerName() + "_" + key).kind().trainable()
                    && !(conf.getUpdaterByParam(key) instanceof NoOp))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isDenseFloat(final INDArray a)
    {
        return a.dataType() == DataType.FLOAT && a.ordering() == 'c' && a.elementWiseStride() == 1;
    }
}
