package io.baton.coordinator.plan;

import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ModelSummary;
import io.baton.trainer.model.ResNetZoo;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;

/**
 * What the scaling model needs to know about a zoo network, computed from its configuration without allocating
 * parameters.
 *
 * @param architecture       the network's name.
 * @param dl4jParams         DL4J's parameter count: the length of the flat gradient Baton all-reduces.
 * @param gradientBytes      {@code dl4jParams} x 4 (float32).
 * @param bnLayers           BatchNormalization layers.
 * @param trainingMemoryBytes DL4J's training memory estimate for one replica's batch (float32, no cache).
 */
public record ModelFacts(String architecture, long dl4jParams, long gradientBytes, int bnLayers,
                         long trainingMemoryBytes)
{
    /** Facts of {@code options} at {@code batchPerReplica} images per replica. */
    public static ModelFacts of(final ModelOptions options, final int batchPerReplica)
    {
        final ModelSummary summary = ModelSummary.of(options, batchPerReplica);
        int bn = 0;
        for (final GraphVertex vertex : ResNetZoo.configuration(options).getVertices().values())
        {
            if (vertex instanceof LayerVertex
                && ((LayerVertex)vertex).getLayerConf().getLayer() instanceof BatchNormalization)
            {
                bn++;
            }
        }
        return new ModelFacts(summary.architecture(), summary.dl4jParams(), 4L * summary.dl4jParams(), bn,
            summary.trainingMemoryBytes());
    }
}
