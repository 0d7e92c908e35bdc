package io.baton.trainer.retrain;

import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.SplitMix64;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Adaptive BN recalibration: re-estimates every batch normalisation layer's running statistics on new data. Each
 * of N batches is passed forward in training mode (each BN normalises with its batch statistics, as in training),
 * and every layer's running mean and unbiased variance become the plain average over the N batches: the running
 * update with momentum 1/k at batch k (k = 1..N), which forgets the old statistics entirely. No weight changes.
 *
 * <p>Threading: the caller's thread; the graph must not be in use elsewhere. SyncBatchNorm layers must be unbound
 * (local statistics).
 */
public final class BnRecalibration
{
    private BnRecalibration()
    {
    }

    /**
     * @param graph     the network; its BN running statistics are replaced.
     * @param source    the new data (training split, training-mode augmentation).
     * @param batches   number of batches to average over (> 0).
     * @param batchSize examples per batch (> 0).
     * @param seed      seed of the sample order.
     * @return number of BN layers recalibrated.
     */
    public static int recalibrate(final ComputationGraph graph, final BatchSource source, final int batches,
        final int batchSize, final long seed)
    {
        if (batches <= 0 || batchSize <= 0)
        {
            throw new IllegalArgumentException("BN recalibration needs batches > 0 and batchSize > 0, batches="
                + batches + ", batchSize=" + batchSize);
        }
        final List<Layer> layers = new ArrayList<>();
        final List<String> inputs = new ArrayList<>();
        for (final Layer layer : graph.getLayers())
        {
            if (layer.conf().getLayer() instanceof BatchNormalization)
            {
                layers.add(layer);
                inputs.add(graph.getConfiguration().getVertexInputs().get(layer.conf().getLayer().getLayerName())
                    .get(0));
            }
        }
        final INDArray[] means = new INDArray[layers.size()];
        final INDArray[] variances = new INDArray[layers.size()];
        final SplitMix64 random = new SplitMix64(seed);
        for (int k = 1; k <= batches; k++)
        {
            final int[] ids = new int[Math.min(batchSize, source.size())];
            for (int i = 0; i < ids.length; i++)
            {
                ids[i] = random.nextInt(source.size());
            }
            final Map<String, INDArray> activations = graph.feedForward(source.load(ids, k, true).features(), true);
            for (int l = 0; l < layers.size(); l++)
            {
                final INDArray x = activations.get(inputs.get(l)).castTo(DataType.DOUBLE);
                final int[] dims = x.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
                final INDArray mean = x.mean(dims);
                final INDArray variance = x.var(true, dims);
                means[l] = k == 1 ? mean : means[l].addi(mean.subi(means[l]).divi(k));
                variances[l] = k == 1 ? variance : variances[l].addi(variance.subi(variances[l]).divi(k));
            }
        }
        for (int l = 0; l < layers.size(); l++)
        {
            store(layers.get(l), means[l], variances[l]);
        }
        graph.clearLayersStates();
        return layers.size();
    }

    private static void store(final Layer layer, final INDArray mean, final INDArray variance)
    {
        final INDArray meanParam = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
        meanParam.assign(mean.reshape(meanParam.shape()).castTo(meanParam.dataType()));
        if (layer.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_VAR))
        {
            final INDArray varParam = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
            varParam.assign(variance.reshape(varParam.shape()).castTo(varParam.dataType()));
        }
        else
        {
            // log10stdev stores log10(sqrt(var + eps)), the denominator DL4J uses at inference.
            final double eps = ((BatchNormalization)layer.conf().getLayer()).getEps();
            final INDArray logStd = Transforms.log(Transforms.sqrt(variance.add(eps)), 10.0);
            final INDArray logParam = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
            logParam.assign(logStd.reshape(logParam.shape()).castTo(logParam.dataType()));
        }
    }
}
