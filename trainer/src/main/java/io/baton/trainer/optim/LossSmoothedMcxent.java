package io.baton.trainer.optim;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Multi-class cross-entropy with label smoothing (Szegedy et al. 2016), as PyTorch's
 * {@code CrossEntropyLoss(label_smoothing=eps)}: the one-hot target y becomes {@code (1 - eps) y + eps / K} for K
 * classes, and the loss is {@code -sum_k y'_k log p_k}. With a softmax output the gradient is {@code p - y'}
 * (DL4J's MCXENT path, valid because y' sums to one). Survives DL4J's JSON round trip.
 *
 * <p>Thread-safe (immutable after construction).
 */
public class LossSmoothedMcxent extends LossMCXENT
{
    private static final long serialVersionUID = 1L;

    @JsonProperty
    private double smoothing;

    /** For JSON. */
    public LossSmoothedMcxent()
    {
        this(0.0);
    }

    /**
     * @param smoothing eps in [0, 1).
     */
    public LossSmoothedMcxent(final double smoothing)
    {
        if (!(smoothing >= 0 && smoothing < 1))
        {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), smoothing=" + smoothing);
        }
        this.smoothing = smoothing;
    }

    public double smoothing()
    {
        return smoothing;
    }

    /**
     * @param labels one-hot (or any distribution) rows, [batch, K].
     * @return {@code (1 - eps) labels + eps / K}, a new array.
     */
    public INDArray smooth(final INDArray labels)
    {
        final long classes = labels.size(labels.rank() - 1);
        return labels.mul(1.0 - smoothing).addi(smoothing / classes);
    }

    @Override
    protected INDArray scoreArray(
        final INDArray labels, final INDArray preOutput, final IActivation activationFn, final INDArray mask)
    {
        return super.scoreArray(smooth(labels), preOutput, activationFn, mask);
    }

    @Override
    public INDArray computeGradient(
        final INDArray labels, final INDArray preOutput, final IActivation activationFn, final INDArray mask)
    {
        return super.computeGradient(smooth(labels), preOutput, activationFn, mask);
    }

    @Override
    public String name()
    {
        return "LossSmoothedMcxent(" + smoothing + ")";
    }

    @Override
    public String toString()
    {
        return name();
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof LossSmoothedMcxent && super.equals(o)
            && Double.compare(((LossSmoothedMcxent)o).smoothing, smoothing) == 0;
    }

    @Override
    public int hashCode()
    {
        return 31 * super.hashCode() + Double.hashCode(smoothing);
    }
}
