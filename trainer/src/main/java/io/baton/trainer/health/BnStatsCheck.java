package io.baton.trainer.health;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sanity of the running statistics of every batch normalisation layer (plain or SyncBatchNorm), the check to run
 * before a model is exported: no non-finite mean or variance, no variance &lt;= 0, no |mean| beyond a limit. DL4J
 * stores the running variance either as {@code var} or, when {@code useLogStd} (M2.1's default), as
 * {@code log10stdev}; both are read as a variance.
 *
 * <p>Thread-safe if the graph is not being trained concurrently.
 */
public final class BnStatsCheck
{
    private BnStatsCheck()
    {
    }

    /**
     * @param graph        the network.
     * @param maxAbsMean   a running mean with a larger magnitude is reported.
     * @return one message per bad layer (naming the layer, the channel and the value); empty when all are sane.
     */
    public static List<String> problems(final ComputationGraph graph, final double maxAbsMean)
    {
        final List<String> problems = new ArrayList<>();
        for (final Layer layer : graph.getLayers())
        {
            if (!(layer.conf().getLayer() instanceof BatchNormalization))
            {
                continue;
            }
            final String name = layer.conf().getLayer().getLayerName();
            final double[] mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN)
                .castTo(DataType.DOUBLE).dup().data().asDouble();
            final double[] variance = variance(layer);
            check(name, mean, variance, maxAbsMean, problems);
        }
        return problems;
    }

    /** Number of batch normalisation layers (plain or SyncBatchNorm) of the graph. */
    public static int countLayers(final ComputationGraph graph)
    {
        int count = 0;
        for (final Layer layer : graph.getLayers())
        {
            count += layer.conf().getLayer() instanceof BatchNormalization ? 1 : 0;
        }
        return count;
    }

    /** The running variance per channel, whichever way the layer stores it. */
    public static double[] variance(final Layer layer)
    {
        if (layer.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_VAR))
        {
            return layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).castTo(DataType.DOUBLE).dup().data()
                .asDouble();
        }
        final double[] log10std = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
            .castTo(DataType.DOUBLE).dup().data().asDouble();
        final double[] variance = new double[log10std.length];
        for (int i = 0; i < log10std.length; i++)
        {
            variance[i] = Math.pow(10.0, 2.0 * log10std[i]);
        }
        return variance;
    }

    private static void check(final String name, final double[] mean, final double[] variance,
        final double maxAbsMean, final List<String> problems)
    {
        for (int c = 0; c < mean.length; c++)
        {
            final String problem;
            if (!Double.isFinite(mean[c]))
            {
                problem = "running mean is " + mean[c];
            }
            else if (!Double.isFinite(variance[c]))
            {
                problem = "running variance is " + variance[c];
            }
            else if (variance[c] <= 0)
            {
                problem = "running variance " + variance[c] + " <= 0";
            }
            else if (Math.abs(mean[c]) > maxAbsMean)
            {
                problem = String.format(Locale.ROOT, "running mean %.6g exceeds +-%.6g", mean[c], maxAbsMean);
            }
            else
            {
                continue;
            }
            problems.add("BN layer " + name + " channel " + c + " of " + mean.length + ": " + problem);
            return;
        }
    }
}
