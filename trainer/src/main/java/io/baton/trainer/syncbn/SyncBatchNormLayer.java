package io.baton.trainer.syncbn;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.backend.DenseFloats;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.nio.FloatBuffer;

/**
 * Cross-replica batch normalisation. In training mode the per-channel statistics are those of the concatenated
 * batch of every replica in the group; in eval mode it is DL4J's BatchNormalization on the running statistics and
 * never communicates.
 *
 * <h2>Collectives (one {@code allReduceSmall(SUM)} per layer per direction)</h2>
 * <ul>
 *   <li>Forward: {@code [sum(x-K) x C, sum((x-K)^2) x C, count]} in double, where the shift K is the running mean
 *       (identical on every replica, close to the batch mean, so no catastrophic cancellation). Global mean =
 *       K + S1/M, biased variance = S2/M - (S1/M)^2.</li>
 *   <li>Backward: {@code [sum dy x C, sum dy*xhat x C]} in double; input gradient =
 *       gamma/std x (dy - Sdy/M - xhat x Sdyxhat/M), i.e. BN's gradient on the concatenated batch.</li>
 * </ul>
 *
 * <h2>Gradient contract</h2>
 * gamma/beta gradients are sums over the <em>local</em> slice (like every DL4J layer's parameter gradient). After
 * the trainer's SUM all-reduce of the flat gradient they are the full-batch BN gradient (a sum over the global
 * batch), which the updater divides by the global batch size. They are never the all-reduced sums of the backward
 * collective (that would count each replica N times).
 *
 * <h2>Running statistics</h2>
 * As in DL4J, backprop writes the running-stat "gradients" (e.g. {@code (running - batch) x (1 - decay)}, see
 * {@link #writeRunningStatDeltas()}) into the NoOp-updated mean/var (or log10stdev) slots of the flat gradient; here batch = global mean and the unbiased (or, optionally,
 * biased) global variance, computed in double from all-reduced values and running values that are identical on
 * every replica, so the deltas are bit-identical on every rank of a group.
 *
 * <h2>Empty slices</h2>
 * A replica whose slice has 0 examples still joins both collectives (count 0, zero sums) and returns an empty
 * activation/epsilon; its gamma/beta gradients are 0. DL4J networks cannot run a 0-example batch end to end
 * (convolutions reject it), so this is supported at the layer-method level only. The whole group having 0
 * examples is an error.
 *
 * <h2>oneDNN</h2>
 * The oneDNN/cuDNN helper of the parent is removed at construction ({@link #getHelper()} is null), so training
 * mode always runs this Java code and eval mode DL4J's Java code.
 *
 * <p>Threading: like every DL4J layer, used by one training thread; {@link #bind(Communicator)} before training.
 */
public class SyncBatchNormLayer extends BatchNormalization
{
    private static final Field HELPER_FIELD = helperField();

    private Communicator communicator;
    private GradientListener gradientListener;
    private Forward forward;
    /**
     * The FLOAT path's copy of an input that is not dense c-order FLOAT, kept from one training step to the next
     * (reallocated only when the shape changes): backward reads the input again, and DL4J's convolutions hand dense
     * arrays, so this is rare. Why a kept buffer: it must outlive the forward pass's workspaces until backprop, so it
     * is detached memory; a fresh detached buffer per step is freed only when the GC runs, and glibc then hands out
     * fresh pages that the kernels fault in on every step (issue 25's profile: ~16,000 page faults per ResNet-20
     * step when the normalised input was stored that way).
     */
    private INDArray inputCopyBuffer;
    /** The FLOAT path's dense input of the last training-mode forward pass, read again by backward. */
    private INDArray denseInput;
    /** The FLOAT path's normalisation of the last training-mode forward pass. */
    private FusedBnKernels.Affine affine;

    public SyncBatchNormLayer(final NeuralNetConfiguration conf, final DataType dataType)
    {
        super(conf, dataType);
        removeHelper();
    }

    /**
     * Sets the communicator spanning this layer's statistics group; null for local statistics (plain BN).
     *
     * @throws IllegalArgumentException if the configured group size is positive and differs from the
     *                                  communicator's world size.
     */
    public void bind(final Communicator communicator)
    {
        final int groupSize = syncConf().getGroupSize();
        if (communicator != null && groupSize > 0 && communicator.worldSize() != groupSize)
        {
            throw new IllegalArgumentException("SyncBatchNorm layer '" + layerConf().getLayerName()
                + "' has syncbn group size " + groupSize + " but was bound to a communicator of world size "
                + communicator.worldSize() + ": pass the group's communicator");
        }
        this.communicator = communicator;
    }

    /**
     * Told in every training-mode backward pass, on the training thread, once this layer's parameter gradients and
     * those of every vertex after it in the graph's topological order are final, just before this layer waits for
     * its peers. The gradient all-reduce uses it to start on those slots while the rest of backward runs.
     */
    @FunctionalInterface
    public interface GradientListener
    {
        void gradientsFinal(SyncBatchNormLayer layer);
    }

    /** Sets the listener of {@link GradientListener#gradientsFinal}; null removes it. */
    public void gradientListener(final GradientListener listener)
    {
        this.gradientListener = listener;
    }

    /** The bound communicator, or null. */
    public Communicator communicator()
    {
        return communicator;
    }

    @Override
    public LayerHelper getHelper()
    {
        return null;
    }

    @Override
    public INDArray preOutput(final INDArray input, final TrainingMode training, final LayerWorkspaceMgr mgr)
    {
        if (training != TrainingMode.TRAIN)
        {
            removeHelper();
            forward = null;
            return super.preOutput(input, training, mgr);
        }
        final INDArray x = checkedInput(input).castTo(dataType);
        final int channels = channels();
        final long localCount = countPerChannel(x);
        final double[] shift = paramDoubles(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        final double[] stats = new double[2 * channels + 1];
        final boolean fused = dataType == DataType.FLOAT && localCount > 0;
        final INDArray dense = fused ? denseCopy(x) : null;
        if (fused)
        {
            FusedBnKernels.shiftedSums(dense, shift, stats);
        }
        else if (localCount > 0)
        {
            StatSums.shifted(x, shift, stats);
        }
        stats[2 * channels] = localCount;
        reduce(stats);
        forward = Forward.fromShiftedSums(stats, shift, layerConf().getEps(), localCount, layerConf().getLayerName());
        denseInput = null;
        affine = null;
        if (localCount == 0)
        {
            xHat = null;
            return Nd4j.create(dataType, x.shape());
        }
        if (fused)
        {
            final INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, dense.shape(), 'c');
            affine = new FusedBnKernels.Affine(forward.mean, forward.std,
                getParam(BatchNormalizationParamInitializer.GAMMA).toFloatVector(),
                getParam(BatchNormalizationParamInitializer.BETA).toFloatVector(), syncConf().isFusedRelu());
            FusedBnKernels.normalize(dense, affine, out);
            denseInput = dense;
            xHat = null;
            xMu = null;
            return mgr.leverageTo(ArrayType.ACTIVATIONS, out);
        }
        final INDArray contiguous = Shape.strideDescendingCAscendingF(x) ? x : x.dup();
        final INDArray mean = Nd4j.createFromArray(forward.mean).castTo(dataType);
        final INDArray std = Nd4j.createFromArray(forward.std).castTo(dataType);
        INDArray normalised = Nd4j.createUninitialized(dataType, contiguous.shape(), contiguous.ordering());
        normalised = Nd4j.getExecutioner().exec(new BroadcastSubOp(contiguous, mean, normalised, 1));
        normalised = Nd4j.getExecutioner().exec(new BroadcastDivOp(normalised, std, normalised, 1));
        final INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, contiguous.shape(),
            contiguous.ordering());
        affineTransform(normalised, out);
        if (syncConf().isFusedRelu())
        {
            Nd4j.getExecutioner().exec(new RectifiedLinear(out, out));
        }
        xHat = normalised.detach();
        xMu = null;
        return mgr.leverageTo(ArrayType.ACTIVATIONS, out);
    }

    /** {@code out = xHat * gamma + beta} by channel (ND4J's broadcast ops). */
    private void affineTransform(final INDArray normalised, final INDArray out)
    {
        Nd4j.getExecutioner().exec(new BroadcastMulOp(normalised,
            getParam(BatchNormalizationParamInitializer.GAMMA), out, 1));
        Nd4j.getExecutioner().exec(new BroadcastAddOp(out,
            getParam(BatchNormalizationParamInitializer.BETA), out, 1));
    }

    /**
     * {@code x} itself when the kernels can read it in place, otherwise a dense FLOAT copy in the buffer kept between
     * steps ({@link #inputCopyBuffer}), which backward still finds intact.
     */
    private INDArray denseCopy(final INDArray x)
    {
        if (FusedBnKernels.applicable(x))
        {
            return x;
        }
        if (inputCopyBuffer == null || !java.util.Arrays.equals(inputCopyBuffer.shape(), x.shape()))
        {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces())
            {
                inputCopyBuffer = Nd4j.createUninitialized(DataType.FLOAT, x.shape(), 'c');
            }
        }
        return inputCopyBuffer.assign(x);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(final INDArray epsilon, final LayerWorkspaceMgr mgr)
    {
        assertInputSet(true);
        if (forward == null)
        {
            throw new IllegalStateException("SyncBatchNorm layer '" + layerConf().getLayerName()
                + "': backprop without a preceding training-mode forward pass");
        }
        final int channels = channels();
        final double[] sums = new double[2 * channels];
        final INDArray dGamma = gradientViews.get(BatchNormalizationParamInitializer.GAMMA);
        final INDArray dBeta = gradientViews.get(BatchNormalizationParamInitializer.BETA);
        final boolean fused = affine != null;
        final INDArray dy = fused ? FusedBnKernels.dense(epsilon)
            : forward.localCount > 0 ? epsilon.castTo(dataType) : null;
        if (fused)
        {
            FusedBnKernels.gradientSums(dy, denseInput, affine, sums);
        }
        else if (forward.localCount > 0)
        {
            StatSums.gradient(dy, xHat, sums);
        }
        assignRounded(dBeta, sums, 0, channels);
        assignRounded(dGamma, sums, channels, channels);
        // Depends only on the forward pass's global statistics: written before the wait below, so that every
        // gradient slot of this layer is final when the listener hears of it.
        writeRunningStatDeltas();
        if (gradientListener != null)
        {
            gradientListener.gradientsFinal(this);
        }
        reduce(sums);

        final INDArray next = forward.localCount == 0
            ? Nd4j.create(dataType, epsilon.shape())
            : fused ? fusedInputGradient(dy, sums, mgr) : inputGradient(dy, sums, mgr);

        final Gradient ret = new DefaultGradient();
        ret.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGamma);
        ret.setGradientFor(BatchNormalizationParamInitializer.BETA, dBeta);
        ret.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        final String varKey = layerConf().isUseLogStd()
            ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
            : BatchNormalizationParamInitializer.GLOBAL_VAR;
        ret.setGradientFor(varKey, gradientViews.get(varKey));
        xHat = null;
        forward = null;
        denseInput = null;
        affine = null;
        return new Pair<>(ret, mgr.leverageTo(ArrayType.ACTIVATION_GRAD, next));
    }

    /** The FLOAT path's copy of a non-dense input kept between steps, or null before one was needed (for tests). */
    INDArray inputCopyBuffer()
    {
        return inputCopyBuffer;
    }

    /** dx = gamma/std x (dy - Sdy/M - xhat x Sdyxhat/M), from the all-reduced sums. */
    private INDArray inputGradient(final INDArray dy, final double[] globalSums, final LayerWorkspaceMgr mgr)
    {
        final Coefficients k = new Coefficients(globalSums);
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, dy.shape(), 'c');
        dx = Nd4j.getExecutioner().exec(new BroadcastMulOp(xHat, vector(k.meanDyXhat), dx, 1));
        dx.rsubi(dy);
        dx = Nd4j.getExecutioner().exec(new BroadcastSubOp(dx, vector(k.meanDy), dx, 1));
        return Nd4j.getExecutioner().exec(new BroadcastMulOp(dx, vector(k.scale), dx, 1));
    }

    /** {@link #inputGradient} on the FLOAT fast path: one pass, same float arithmetic. */
    private INDArray fusedInputGradient(final INDArray dy, final double[] globalSums, final LayerWorkspaceMgr mgr)
    {
        final Coefficients k = new Coefficients(globalSums);
        final INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, dy.shape(), 'c');
        FusedBnKernels.inputGradient(dy, denseInput, affine, FusedBnKernels.floats(k.scale),
            FusedBnKernels.floats(k.meanDy), FusedBnKernels.floats(k.meanDyXhat), dx);
        return dx;
    }

    /** Per-channel gamma/std, Sdy/M and Sdyxhat/M of the input gradient, in double. */
    private final class Coefficients
    {
        final double[] scale;
        final double[] meanDy;
        final double[] meanDyXhat;

        Coefficients(final double[] globalSums)
        {
            final int channels = channels();
            final double[] gamma = paramDoubles(BatchNormalizationParamInitializer.GAMMA);
            final double count = forward.globalCount;
            scale = new double[channels];
            meanDy = new double[channels];
            meanDyXhat = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                scale[c] = gamma[c] / forward.std[c];
                meanDy[c] = globalSums[c] / count;
                meanDyXhat[c] = globalSums[channels + c] / count;
            }
        }
    }

    /**
     * Running-stat "gradients", applied by DL4J's NoOp updater as p -= g, exactly as DL4J defines them:
     * mean: (running - global) x (1 - decay); var: (running - global) x (1 - decay); log10stdev (useLogStd):
     * log10(sqrt(running / (decay x running + (1 - decay) x global))). Computed in double.
     */
    private void writeRunningStatDeltas()
    {
        final double decay = layerConf().getDecay();
        final double[] runningMean = paramDoubles(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        final boolean logStd = layerConf().isUseLogStd();
        final String varKey = logStd
            ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
            : BatchNormalizationParamInitializer.GLOBAL_VAR;
        final double[] runningVarParam = paramDoubles(varKey);
        final double varianceScale = syncConf().isUnbiasedRunningVariance() && forward.globalCount > 1
            ? forward.globalCount / (forward.globalCount - 1.0)
            : 1.0;
        final double[] dMean = new double[runningMean.length];
        final double[] dVar = new double[runningVarParam.length];
        for (int c = 0; c < dMean.length; c++)
        {
            dMean[c] = (runningMean[c] - forward.mean[c]) * (1.0 - decay);
            final double batchVar = forward.biasedVar[c] * varianceScale;
            if (logStd)
            {
                final double std = Math.pow(10.0, runningVarParam[c]);
                final double runningVar = std * std;
                final double next = runningVar * decay + batchVar * (1.0 - decay);
                dVar[c] = Math.log(runningVar / next) * ONE_ON_2LOGE_10;
            }
            else
            {
                dVar[c] = (runningVarParam[c] - batchVar) * (1.0 - decay);
            }
        }
        assignRounded(gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN), dMean, 0, dMean.length);
        assignRounded(gradientViews.get(varKey), dVar, 0, dVar.length);
    }

    private void reduce(final double[] values)
    {
        if (communicator != null && communicator.worldSize() > 1)
        {
            communicator.allReduceSmall(values, ReduceOp.SUM);
        }
    }

    /**
     * A parameter's values in double. Dense FLOAT parameters (the usual case) are read in place: a cast through
     * ND4J allocates a native array, and each native allocation has JavaCPP read {@code /proc/self/statm} (its
     * physical-memory bound), a system call per array that ResNet-50's profile showed at 1-3 % of a step.
     */
    private double[] paramDoubles(final String key)
    {
        final INDArray p = getParam(key);
        if (!DenseFloats.isDense(p))
        {
            return p.castTo(DataType.DOUBLE).toDoubleVector();
        }
        final FloatBuffer b = DenseFloats.view(p);
        final double[] out = new double[Math.toIntExact(p.length())];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = b.get(i);
        }
        return out;
    }

    /**
     * {@code target = values[from, from + length)} rounded to the target's type, written in place when the target
     * is dense FLOAT (see {@link #paramDoubles}; Java's double-to-float rounding is ND4J's cast's, to nearest).
     */
    private void assignRounded(final INDArray target, final double[] values, final int from, final int length)
    {
        if (!DenseFloats.isDense(target) || target.length() != length)
        {
            target.assign(Nd4j.createFromArray(slice(values, from, length)).castTo(dataType));
            return;
        }
        final FloatBuffer b = DenseFloats.view(target);
        for (int i = 0; i < length; i++)
        {
            b.put(i, (float)values[from + i]);
        }
        DenseFloats.written(target);
    }

    private INDArray vector(final double[] values)
    {
        return Nd4j.createFromArray(values).castTo(dataType);
    }

    private INDArray checkedInput(final INDArray x)
    {
        if (x.rank() != 2 && x.rank() != 4)
        {
            throw new IllegalStateException("SyncBatchNorm layer '" + layerConf().getLayerName()
                + "' supports rank 2 or rank 4 (NCHW) input, got shape " + java.util.Arrays.toString(x.shape()));
        }
        if (x.size(1) != channels())
        {
            throw new IllegalArgumentException("SyncBatchNorm layer '" + layerConf().getLayerName() + "' expects "
                + channels() + " channels in dimension 1, got shape " + java.util.Arrays.toString(x.shape()));
        }
        return x;
    }

    private int channels()
    {
        return Math.toIntExact(layerConf().getNOut());
    }

    private static long countPerChannel(final INDArray x)
    {
        return x.rank() == 4 ? x.size(0) * x.size(2) * x.size(3) : x.size(0);
    }

    private SyncBatchNorm syncConf()
    {
        return (SyncBatchNorm)layerConf();
    }

    private static double[] slice(final double[] values, final int from, final int length)
    {
        final double[] out = new double[length];
        System.arraycopy(values, from, out, 0, length);
        return out;
    }

    private void removeHelper()
    {
        try
        {
            HELPER_FIELD.set(this, null);
        }
        catch (final IllegalAccessException ex)
        {
            throw new IllegalStateException("cannot remove the BatchNormalization helper of SyncBatchNorm", ex);
        }
    }

    private static Field helperField()
    {
        try
        {
            final Field field = BatchNormalization.class.getDeclaredField("helper");
            field.setAccessible(true);
            return field;
        }
        catch (final NoSuchFieldException ex)
        {
            throw new IllegalStateException("DL4J's BatchNormalization has no 'helper' field: SyncBatchNorm cannot "
                + "keep oneDNN/cuDNN out of its training path", ex);
        }
    }

    /** Global statistics of the last training-mode forward pass, kept for backward. */
    private static final class Forward
    {
        final double[] mean;
        final double[] biasedVar;
        final double[] std;
        final long globalCount;
        final long localCount;

        private Forward(
            final double[] mean, final double[] biasedVar, final double[] std, final long globalCount,
            final long localCount)
        {
            this.mean = mean;
            this.biasedVar = biasedVar;
            this.std = std;
            this.globalCount = globalCount;
            this.localCount = localCount;
        }

        static Forward fromShiftedSums(
            final double[] stats, final double[] shift, final double eps, final long localCount, final String layer)
        {
            final int channels = shift.length;
            final long globalCount = Math.round(stats[2 * channels]);
            if (globalCount <= 0)
            {
                throw new IllegalStateException("SyncBatchNorm layer '" + layer
                    + "': every replica of the group has an empty batch");
            }
            final double[] mean = new double[channels];
            final double[] var = new double[channels];
            final double[] std = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                final double m1 = stats[c] / globalCount;
                mean[c] = shift[c] + m1;
                var[c] = Math.max(stats[channels + c] / globalCount - m1 * m1, 0.0);
                std[c] = Math.sqrt(var[c] + eps);
            }
            return new Forward(mean, var, std, globalCount, localCount);
        }
    }
}
