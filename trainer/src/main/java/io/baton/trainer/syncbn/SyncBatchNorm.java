package io.baton.trainer.syncbn;

import io.baton.common.collective.Communicator;
import io.baton.trainer.layers.LayerConfs;
import io.baton.trainer.layers.ReluFusible;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Objects;

/**
 * Configuration of a cross-replica batch normalisation layer: DL4J's {@link BatchNormalization} whose training-mode
 * batch statistics are those of the whole group of replicas (the concatenated global batch), not of the local
 * slice. Instantiates a {@link SyncBatchNormLayer}; survives DL4J's JSON round trip (Jackson stores the class name
 * and the fields of this class).
 *
 * <p>Settings beyond plain BN:
 * <ul>
 *   <li>{@code groupSize}: replicas whose statistics are combined; 0 means the whole world. With a group size
 *       k &lt; world size, ranks [g*k, (g+1)*k) synchronise together; the communicator passed to
 *       {@link #bind(ComputationGraph, Communicator)} must then span exactly that group (see {@link BnGroups}).</li>
 *   <li>{@code unbiasedRunningVariance}: the running variance moves toward the unbiased variance of the global
 *       batch, M/(M-1) x biased (PyTorch's convention, and the one of issue 4). DL4J's own BatchNormalization uses
 *       the biased variance; set this to false to reproduce it exactly.</li>
 * </ul>
 *
 * <p>Supported inputs: rank 2 (dense) and rank 4 NCHW; both running-variance storages of DL4J ({@code var}, and
 * {@code log10stdev} when {@code useLogStd}, the Builder's default in 1.0.0-M2.1); {@code lockGammaBeta} and NHWC
 * are rejected at instantiation. Threading: configuration objects are immutable once the network is built.
 */
public class SyncBatchNorm extends BatchNormalization implements ReluFusible
{
    private static final long serialVersionUID = 1L;

    /** Replicas per statistics group; 0 = all replicas of the job. */
    protected int groupSize;
    /** Whether the running variance tracks the unbiased (M-1) or the biased (M) variance of the global batch. */
    protected boolean unbiasedRunningVariance = true;
    /** Whether the training-mode output includes the ReLU of the layer after it ({@link ReluFusible}). */
    protected boolean fusedRelu;

    /** For Jackson and for {@link #from(BatchNormalization, int)}. Defaults: DL4J's BN defaults, whole world. */
    public SyncBatchNorm()
    {
        super();
    }

    /**
     * A SyncBatchNorm with every setting of {@code bn} (name, nIn/nOut, decay, eps, updater, constraints...).
     *
     * @param bn        the plain BN configuration to copy; not modified.
     * @param groupSize replicas per statistics group, 0 for the whole world.
     */
    public static SyncBatchNorm from(final BatchNormalization bn, final int groupSize)
    {
        if (groupSize < 0)
        {
            throw new IllegalArgumentException("syncbn group size must be >= 0 (0 = world), groupSize=" + groupSize);
        }
        final SyncBatchNorm out = new SyncBatchNorm();
        copyFields(bn.clone(), out, "SyncBatchNorm");
        if (bn instanceof SyncBatchNorm)
        {
            out.unbiasedRunningVariance = ((SyncBatchNorm)bn).unbiasedRunningVariance;
            out.fusedRelu = ((SyncBatchNorm)bn).fusedRelu;
        }
        out.groupSize = groupSize;
        return out;
    }

    /** Replicas per statistics group; 0 = all replicas. (Bean accessors: DL4J's Jackson mapper uses them.) */
    public int getGroupSize()
    {
        return groupSize;
    }

    public void setGroupSize(final int groupSize)
    {
        this.groupSize = groupSize;
    }

    public boolean isUnbiasedRunningVariance()
    {
        return unbiasedRunningVariance;
    }

    public void setUnbiasedRunningVariance(final boolean unbiasedRunningVariance)
    {
        this.unbiasedRunningVariance = unbiasedRunningVariance;
    }

    @Override
    public boolean isFusedRelu()
    {
        return fusedRelu;
    }

    @Override
    public void setFusedRelu(final boolean fusedRelu)
    {
        this.fusedRelu = fusedRelu;
    }

    /** Returns this configuration with the given running-variance convention (for use before the net is built). */
    public SyncBatchNorm unbiasedRunningVariance(final boolean unbiased)
    {
        this.unbiasedRunningVariance = unbiased;
        return this;
    }

    @Override
    public Layer instantiate(
        final NeuralNetConfiguration conf,
        final Collection<TrainingListener> trainingListeners,
        final int layerIndex,
        final INDArray layerParamsView,
        final boolean initializeParams,
        final DataType networkDataType)
    {
        if (isLockGammaBeta() || (getCnn2DFormat() != null && getCnn2DFormat() != CNN2DFormat.NCHW))
        {
            throw new IllegalArgumentException("SyncBatchNorm layer '" + getLayerName() + "' supports neither "
                + "lockGammaBeta nor NHWC: lockGammaBeta=" + isLockGammaBeta() + ", format=" + getCnn2DFormat());
        }
        return LayerConfs.wire(new SyncBatchNormLayer(conf, networkDataType), conf, trainingListeners, layerIndex,
            layerParamsView, initializeParams, initializer());
    }

    /**
     * Injects the communicator into every {@link SyncBatchNormLayer} of an initialised graph. Call once after
     * {@code init()} and before the first training step, on every rank, with the same kind of communicator.
     *
     * @param graph         an initialised graph.
     * @param communicator  spans the layer's statistics group: the whole world when groupSize is 0, else exactly
     *                      the groupSize ranks of this replica's group; null unbinds (local statistics).
     * @return the number of layers bound.
     */
    public static int bind(final ComputationGraph graph, final Communicator communicator)
    {
        return bindLayers(graph.getLayers(), communicator);
    }

    /** As {@link #bind(ComputationGraph, Communicator)}, for a MultiLayerNetwork. */
    public static int bind(final MultiLayerNetwork net, final Communicator communicator)
    {
        return bindLayers(net.getLayers(), communicator);
    }

    private static int bindLayers(final Layer[] layers, final Communicator communicator)
    {
        int bound = 0;
        for (final Layer layer : layers)
        {
            if (layer instanceof SyncBatchNormLayer)
            {
                ((SyncBatchNormLayer)layer).bind(communicator);
                bound++;
            }
        }
        return bound;
    }

    @Override
    public SyncBatchNorm clone()
    {
        return (SyncBatchNorm)super.clone();
    }

    @Override
    public boolean equals(final Object o)
    {
        if (!(o instanceof SyncBatchNorm) || !super.equals(o))
        {
            return false;
        }
        final SyncBatchNorm other = (SyncBatchNorm)o;
        return groupSize == other.groupSize && unbiasedRunningVariance == other.unbiasedRunningVariance
            && fusedRelu == other.fusedRelu;
    }

    @Override
    protected boolean canEqual(final Object other)
    {
        return other instanceof SyncBatchNorm;
    }

    @Override
    public int hashCode()
    {
        return Objects.hash(super.hashCode(), groupSize, unbiasedRunningVariance, fusedRelu);
    }

    @Override
    public String toString()
    {
        return "SyncBatchNorm(groupSize=" + groupSize + ", unbiasedRunningVariance=" + unbiasedRunningVariance
            + ", fusedRelu=" + fusedRelu + ", " + super.toString() + ")";
    }

    /**
     * Copies every instance field declared by BatchNormalization and its superclasses (the whole DL4J state) from one
     * layer configuration to another, in either direction between BatchNormalization and SyncBatchNorm.
     */
    static void copyFields(final BatchNormalization from, final BatchNormalization to, final String what)
    {
        LayerConfs.copyFields(BatchNormalization.class, from, to, what);
    }
}
