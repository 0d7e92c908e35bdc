package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

/**
 * What the zoo asks of one batch-normalisation layer: its vertex name, channels, epsilon, running-average decay
 * and initial gamma/beta. Defaults follow torchvision: eps 1e-5, decay 0.9 (= PyTorch momentum 0.1).
 *
 * @param name      vertex name in the graph, e.g. {@code stage2_block1_bn2}.
 * @param channels  number of channels normalised.
 * @param eps       added to the variance.
 * @param decay     DL4J running-average decay: running = decay * running + (1 - decay) * batch.
 * @param gammaInit initial scale; 0 for the zero-initialised last BN of a residual branch.
 * @param betaInit  initial shift.
 */
public record NormSpec(String name, long channels, double eps, double decay, double gammaInit, double betaInit)
{
    public static final double DEFAULT_EPS = 1e-5;
    public static final double DEFAULT_DECAY = 0.9;

    /**
     * @param name      vertex name.
     * @param channels  channels normalised.
     * @param gammaInit initial scale.
     * @return a spec with torchvision's eps and momentum and beta 0.
     */
    public static NormSpec of(final String name, final long channels, final double gammaInit)
    {
        return new NormSpec(name, channels, DEFAULT_EPS, DEFAULT_DECAY, gammaInit, 0.0);
    }

    /**
     * Configure a BN layer (or a subclass created with its no-arg constructor) to this spec: channels, eps,
     * decay, gamma/beta init, trainable gamma/beta, minibatch statistics, NCHW, identity activation.
     *
     * @param layer the layer to configure.
     * @param <T>   its type.
     * @return the same layer.
     */
    public <T extends BatchNormalization> T applyTo(final T layer)
    {
        layer.setLayerName(name);
        layer.setNIn(channels);
        layer.setNOut(channels);
        layer.setEps(eps);
        layer.setDecay(decay);
        layer.setGamma(gammaInit);
        layer.setBeta(betaInit);
        layer.setLockGammaBeta(false);
        layer.setMinibatch(true);
        layer.setUseLogStd(true);
        layer.setCudnnAllowFallback(true);
        layer.setCnn2DFormat(CNN2DFormat.NCHW);
        layer.setActivationFn(new ActivationIdentity());
        return layer;
    }
}
