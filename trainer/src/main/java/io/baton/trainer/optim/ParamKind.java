package io.baton.trainer.optim;

/**
 * How Baton's optimiser treats one parameter tensor of the flat parameter vector.
 *
 * <p>Thread-safe (immutable).
 */
public enum ParamKind
{
    /** Convolution or fully-connected weight: weight decay and LARS apply. */
    WEIGHT,
    /** Trainable but never decayed nor LARS-adapted: every bias, BN gamma and beta. */
    NO_DECAY,
    /**
     * Not trainable: BN running mean/var. Its DL4J "gradient" slot is a delta (running - batch) x (1 - decay),
     * applied as-is after averaging over ranks.
     */
    RUNNING_STAT;

    /** True for the kinds the optimiser updates with SGD (everything but running statistics). */
    public boolean trainable()
    {
        return this != RUNNING_STAT;
    }
}
