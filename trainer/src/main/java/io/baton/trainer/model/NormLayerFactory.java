package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;

/**
 * The one place where the zoo creates batch-normalisation layers. Replace it to swap every BN of a network, e.g.
 * for a cross-replica SyncBatchNorm subclass: {@code spec -> spec.applyTo(new SyncBatchNorm(...))}.
 */
@FunctionalInterface
public interface NormLayerFactory
{
    /**
     * @param spec name, channels, eps, decay and initial gamma/beta the layer must have.
     * @return a new layer configuration for that spec.
     */
    BatchNormalization create(NormSpec spec);

    /**
     * @return the default factory: DL4J's own {@link BatchNormalization} configured by the spec.
     */
    static NormLayerFactory standard()
    {
        return spec -> spec.applyTo(new BatchNormalization.Builder().build());
    }
}
