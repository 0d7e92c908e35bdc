package io.baton.trainer.replica;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * Counts the correct top-1 predictions of a training step's own forward pass, so the per-step batch accuracy costs
 * one small matrix product instead of a second forward pass. DL4J's {@code computeGradientAndScore()} hands every
 * listener the activations of all vertices but the output layer, inside the step's workspace; this probe takes the
 * activations that feed the output layer and recomputes its logits ({@code x W + b}: softmax does not change the
 * argmax) against the step's labels.
 *
 * <p>Only graphs with one dense output layer fed directly (no input preprocessor) are measured; for others
 * {@link #supported()} is false and the count is -1. The logits come from a separate matrix product, so a near tie
 * may resolve differently than in the loss by one rounding: this is a metric, never part of the update.
 *
 * <p>Threading: the replica's training thread (DL4J calls listeners on the thread that runs the step).
 */
final class BatchAccuracyProbe extends BaseTrainingListener
{
    private final String inputVertex;
    private final String outputLayer;
    private INDArray labels;
    private long correct = -1;

    private BatchAccuracyProbe(final String inputVertex, final String outputLayer)
    {
        this.inputVertex = inputVertex;
        this.outputLayer = outputLayer;
    }

    /** A probe for this graph; registered as one of its training listeners. */
    static BatchAccuracyProbe attach(final ComputationGraph graph)
    {
        final BatchAccuracyProbe probe = find(graph);
        if (probe.supported())
        {
            graph.addListeners(probe);
        }
        return probe;
    }

    private static BatchAccuracyProbe find(final ComputationGraph graph)
    {
        final List<String> outputs = graph.getConfiguration().getNetworkOutputs();
        if (outputs.size() != 1)
        {
            return new BatchAccuracyProbe(null, null);
        }
        final String output = outputs.get(0);
        final GraphVertex vertex = graph.getConfiguration().getVertices().get(output);
        final List<String> inputs = graph.getConfiguration().getVertexInputs().get(output);
        if (!(vertex instanceof LayerVertex layerVertex)
            || !(layerVertex.getLayerConf().getLayer() instanceof BaseOutputLayer)
            || layerVertex.getPreProcessor() != null || inputs == null || inputs.size() != 1)
        {
            return new BatchAccuracyProbe(null, null);
        }
        return new BatchAccuracyProbe(inputs.get(0), output);
    }

    /** Whether this graph's shape lets the probe count. */
    boolean supported()
    {
        return outputLayer != null;
    }

    /** Arms the probe for the next forward pass with the step's labels (one-hot or smoothed; argmax is the class). */
    void arm(final INDArray stepLabels)
    {
        labels = stepLabels;
        correct = -1;
    }

    /** Correct top-1 predictions of the last armed forward pass, or -1 when it was not measured. */
    long correct()
    {
        return correct;
    }

    @Override
    public void onForwardPass(final Model model, final Map<String, INDArray> activations)
    {
        final INDArray x = activations.get(inputVertex);
        if (labels == null || x == null || x.rank() != 2 || !(model instanceof ComputationGraph graph))
        {
            return;
        }
        final org.deeplearning4j.nn.api.Layer layer = graph.getLayer(outputLayer);
        final INDArray w = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
        final INDArray b = layer.getParam(DefaultParamInitializer.BIAS_KEY);
        INDArray logits = x.castTo(w.dataType()).mmul(w);
        if (b != null)
        {
            logits = logits.addiRowVector(b);
        }
        final INDArray predicted = logits.argMax(1);
        final INDArray truth = labels.argMax(1);
        correct = predicted.eq(truth).castTo(DataType.INT64).sumNumber().longValue();
        labels = null;
    }
}
