package io.baton.trainer.export;

import io.baton.trainer.layers.ReplicaLayers;
import io.baton.trainer.model.ZeroPadShortcutBuiltIns;
import io.baton.trainer.optim.LabelSmoothing;
import io.baton.trainer.syncbn.PlainBatchNormSwap;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the graph an export writes: one that plain DL4J restores ({@code ModelSerializer.restoreComputationGraph})
 * with no Baton class on the class path, computing the training graph's inference output. Baton's training-only
 * classes are replaced by DL4J's: SyncBatchNorm by BatchNormalization ({@link PlainBatchNormSwap}), Baton's
 * convolution and activation layers by DL4J's ({@link ReplicaLayers#toPlain}), the
 * label-smoothed loss by plain MCXENT ({@link LabelSmoothing#toPlainMcxent}: same softmax output, only training
 * would differ), the option-A shortcut by DL4J vertices ({@link ZeroPadShortcutBuiltIns}: same output). Anything
 * else of Baton's left in the configuration refuses the export, naming the vertex and class. Parameters are copied
 * layer by layer by name, since the graph's vertices (and so its flat parameter order) differ from the training
 * graph's.
 *
 * <p>Thread-safe (stateless) if the training graph is not being trained concurrently.
 */
final class InferenceForm
{
    private static final Pattern BATON_CLASS = Pattern.compile("io\\.baton\\.[A-Za-z0-9_.$]+");

    private InferenceForm()
    {
    }

    /**
     * @param training the trained graph; not modified.
     * @param input    the network's input type.
     * @throws IllegalStateException if a Baton class would remain in the exported configuration.
     */
    static ComputationGraph of(final ComputationGraph training, final InputType input)
    {
        final ComputationGraphConfiguration plain = ReplicaLayers.toPlain(
            PlainBatchNormSwap.toPlainBatchNorm(training.getConfiguration()));
        LabelSmoothing.toPlainMcxent(plain);
        final ComputationGraphConfiguration conf = ZeroPadShortcutBuiltIns.toBuiltIns(plain, input);
        requireNoBatonClass(conf);
        long params = 0;
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            params += vertex.numParams(true);
        }
        if (params != training.numParams())
        {
            throw new IllegalStateException("inference form has " + params + " parameters, the training graph "
                + training.numParams());
        }
        final ComputationGraph inference = new ComputationGraph(conf);
        inference.init(Nd4j.zeros(training.params().dataType(), 1, params), false);
        copyParams(training, inference);
        return inference;
    }

    /** Refuses a configuration that names a Baton class: plain DL4J could not restore it. */
    static void requireNoBatonClass(final ComputationGraphConfiguration conf)
    {
        for (final Map.Entry<String, GraphVertex> entry : conf.getVertices().entrySet())
        {
            final GraphVertex vertex = entry.getValue();
            final String text = vertex instanceof LayerVertex layer
                ? layer.getLayerConf().toJson() + " " + layer.getPreProcessor()
                : vertex.getClass().getName();
            final Set<String> found = batonClasses(text);
            if (!found.isEmpty())
            {
                throw new IllegalStateException("refusing to export: vertex '" + entry.getKey() + "' uses "
                    + String.join(", ", found) + ", which the exported model cannot use (it must load without Baton)");
            }
        }
        final Set<String> found = batonClasses(conf.toJson());
        if (!found.isEmpty())
        {
            throw new IllegalStateException("refusing to export: the graph configuration uses "
                + String.join(", ", found) + ", which the exported model cannot use (it must load without Baton)");
        }
    }

    private static Set<String> batonClasses(final String text)
    {
        final Set<String> found = new TreeSet<>();
        final Matcher m = BATON_CLASS.matcher(text);
        while (m.find())
        {
            found.add(m.group());
        }
        return found;
    }

    /** Every parameter of {@code to}'s layers from the same-named layer of {@code from}, same keys and shapes. */
    private static void copyParams(final ComputationGraph from, final ComputationGraph to)
    {
        long copied = 0;
        for (final Layer target : to.getLayers())
        {
            final String name = target.conf().getLayer().getLayerName();
            final org.deeplearning4j.nn.graph.vertex.GraphVertex source = from.getVertex(name);
            final Map<String, INDArray> values = target.paramTable();
            if (values.isEmpty())
            {
                continue;
            }
            final Map<String, INDArray> sourceValues = source == null || !source.hasLayer() ? Map.of()
                : source.getLayer().paramTable();
            if (!sourceValues.keySet().equals(values.keySet()))
            {
                throw new IllegalStateException("layer '" + name + "' has parameters " + values.keySet()
                    + " in the inference form, " + sourceValues.keySet() + " in the training graph");
            }
            for (final Map.Entry<String, INDArray> param : values.entrySet())
            {
                final INDArray value = sourceValues.get(param.getKey());
                if (!Arrays.equals(value.shape(), param.getValue().shape()))
                {
                    throw new IllegalStateException("parameter " + param.getKey() + " of layer '" + name
                        + "' has shape " + Arrays.toString(param.getValue().shape()) + " in the inference form, "
                        + Arrays.toString(value.shape()) + " in the training graph");
                }
                param.getValue().assign(value);
                copied += value.length();
            }
        }
        if (copied != from.numParams())
        {
            throw new IllegalStateException("copied " + copied + " parameters of the training graph's "
                + from.numParams());
        }
    }
}
