package io.baton.api.dl4j;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;

/**
 * Copies the parameters Baton trained (its inference-form graph) into the caller's own network, parameter by
 * parameter name, so that the network DL4J's Spark wrapper holds, and its configuration, stay the caller's.
 * Stateless.
 */
final class TrainedParameters
{
    private TrainedParameters()
    {
    }

    /**
     * Assigns every parameter of {@code target} (a graph's or network's parameter table: views of its parameters)
     * from the parameter of the same name in {@code trained}.
     *
     * @throws IllegalStateException naming the parameter when {@code trained} lacks it or its shape differs.
     */
    static void copy(final ComputationGraph trained, final Map<String, INDArray> target)
    {
        final Map<String, INDArray> source = trained.paramTable();
        for (final Map.Entry<String, INDArray> param : target.entrySet())
        {
            final INDArray value = source.get(param.getKey());
            if (value == null || value.length() != param.getValue().length())
            {
                throw new IllegalStateException("the trained model's parameter '" + param.getKey() + "' is "
                    + (value == null ? "missing" : "of shape " + Arrays.toString(value.shape())) + " but the network's "
                    + "is of shape " + Arrays.toString(param.getValue().shape()));
            }
            param.getValue().assign(value.reshape(param.getValue().shape()).castTo(param.getValue().dataType()));
        }
    }
}
