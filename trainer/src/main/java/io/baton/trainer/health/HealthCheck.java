package io.baton.trainer.health;

import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ResidualBlocks;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The seed article's training-time health checks on one batch: max |activation| and the fraction of dead ReLU
 * channels at every residual block's output, and the gradient norm of every stage (after a backward pass on the
 * batch). The check leaves the model as it found it: BN running statistics are restored afterwards and no
 * parameter is updated.
 *
 * <p>Threading: the training thread, between steps. With SyncBatchNorm layers bound to a communicator the forward
 * and backward passes are collectives, so every rank must run the check at the same step (each on its own batch);
 * write the report from one rank. The gradient norms are this replica's (not all-reduced).
 */
public final class HealthCheck
{
    private static final Pattern STAGE = Pattern.compile("^(stage\\d+)_.*");
    private static final String OUTPUT_SUFFIX = "_out";

    private final ComputationGraph graph;
    private final List<ResidualBlock> blocks;
    private final HealthThresholds thresholds;

    /**
     * @param graph      the network (initialised).
     * @param input      its input type.
     * @param thresholds when to warn.
     */
    public HealthCheck(final ComputationGraph graph, final InputType input, final HealthThresholds thresholds)
    {
        this.graph = graph;
        this.blocks = ResidualBlocks.describe(graph.getConfiguration(), input);
        this.thresholds = thresholds;
    }

    /** Runs the checks on one batch; {@code step} only labels the report. */
    public HealthReport run(final long step, final INDArray features, final INDArray labels)
    {
        final List<SavedParam> saved = saveRunningStats();
        try
        {
            final List<String> warnings = new ArrayList<>();
            final List<BlockHealth> health = activations(features, warnings);
            final Map<String, Double> norms = gradientNorms(features, labels, warnings);
            return new HealthReport(step, health, norms, warnings);
        }
        finally
        {
            saved.forEach(SavedParam::restore);
            graph.clearLayersStates();
        }
    }

    private List<BlockHealth> activations(final INDArray features, final List<String> warnings)
    {
        final Map<String, INDArray> activations = graph.feedForward(features, true);
        final List<BlockHealth> health = new ArrayList<>();
        for (final ResidualBlock block : blocks)
        {
            final INDArray a = activations.get(block.outputVertex());
            final double maxAbs = a.amaxNumber().doubleValue();
            double dead = Double.NaN;
            if (block.outputVertex().endsWith(OUTPUT_SUFFIX) && a.rank() == 4)
            {
                final INDArray perChannelMax = a.max(0, 2, 3);
                final long channels = perChannelMax.length();
                final long alive = perChannelMax.gt(0.0).castTo(org.nd4j.linalg.api.buffer.DataType.INT).sumNumber()
                    .longValue();
                dead = (double)(channels - alive) / channels;
            }
            if (!(maxAbs <= thresholds.maxActivation()))
            {
                warnings.add(String.format(Locale.ROOT, "block %s: max |activation| %.4g > %.4g", block.name(), maxAbs,
                    thresholds.maxActivation()));
            }
            if (dead > thresholds.maxDeadFraction())
            {
                warnings.add(String.format(Locale.ROOT, "block %s: %.1f%% of ReLU channels dead > %.1f%%",
                    block.name(), 100 * dead, 100 * thresholds.maxDeadFraction()));
            }
            health.add(new BlockHealth(block.name(), maxAbs, dead));
        }
        return health;
    }

    private Map<String, Double> gradientNorms(final INDArray features, final INDArray labels,
        final List<String> warnings)
    {
        graph.setInputs(features);
        graph.setLabels(labels);
        graph.computeGradientAndScore();
        final Map<String, Double> sumSquares = new LinkedHashMap<>();
        sumSquares.put("stem", 0.0);
        for (final ResidualBlock block : blocks)
        {
            sumSquares.putIfAbsent("stage" + block.stage(), 0.0);
        }
        sumSquares.put("head", 0.0);
        for (final Map.Entry<String, INDArray> entry : graph.gradient().gradientForVariable().entrySet())
        {
            final String name = entry.getKey();
            if (name.endsWith("_" + BatchNormalizationParamInitializer.GLOBAL_MEAN)
                || name.endsWith("_" + BatchNormalizationParamInitializer.GLOBAL_VAR)
                || name.endsWith("_" + BatchNormalizationParamInitializer.GLOBAL_LOG_STD))
            {
                continue;
            }
            final double norm = entry.getValue().norm2Number().doubleValue();
            sumSquares.merge(group(name), norm * norm, Double::sum);
        }
        final Map<String, Double> norms = new LinkedHashMap<>();
        sumSquares.forEach((group, ss) -> norms.put(group, Math.sqrt(ss)));
        if (thresholds.maxStageGradNorm() > 0)
        {
            norms.forEach((group, norm) ->
            {
                if (!(norm <= thresholds.maxStageGradNorm()))
                {
                    warnings.add(String.format(Locale.ROOT, "%s: gradient norm %.4g > %.4g", group, norm,
                        thresholds.maxStageGradNorm()));
                }
            });
        }
        return norms;
    }

    private static String group(final String variable)
    {
        final Matcher m = STAGE.matcher(variable);
        if (m.matches())
        {
            return m.group(1);
        }
        return variable.startsWith("stem") ? "stem" : "head";
    }

    /** A copy of one running-statistics parameter, to put back after the check. */
    private record SavedParam(Layer layer, String param, INDArray values)
    {
        void restore()
        {
            layer.getParam(param).assign(values);
        }
    }

    private List<SavedParam> saveRunningStats()
    {
        final List<SavedParam> saved = new ArrayList<>();
        for (final Layer layer : graph.getLayers())
        {
            if (layer.conf().getLayer() instanceof BatchNormalization)
            {
                for (final String param : List.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
                    BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD))
                {
                    if (layer.paramTable().containsKey(param))
                    {
                        saved.add(new SavedParam(layer, param, layer.getParam(param).dup()));
                    }
                }
            }
        }
        return saved;
    }
}
