package io.baton.trainer.replica;

import io.baton.common.collective.Communicator;
import io.baton.trainer.backend.NativeRuntime;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.activations.Activation;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-step batch top-1 is counted from the step's own forward pass, before the update. */
class BatchAccuracyProbeTest
{
    private static final int BATCH = 32;
    private static final int RIGHT = 20;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void stepCountsTheCorrectPredictionsOfItsForwardPass() throws Exception
    {
        final ComputationGraph graph = DdpHarness.init(DdpHarness.residualNet());
        final INDArray x = DdpHarness.data(1, BATCH, 5).get(0)[0];
        // Labels built from the graph's own training-mode predictions: exactly RIGHT of them agree.
        final INDArray predicted = graph.outputSingle(true, x).argMax(1);
        final INDArray labels = Nd4j.zeros(DataType.FLOAT, BATCH, DdpHarness.CLASSES);
        for (int i = 0; i < BATCH; i++)
        {
            final int p = predicted.getInt(i);
            labels.putScalar(i, i < RIGHT ? p : (p + 1) % DdpHarness.CLASSES, 1.0);
        }
        try (Communicator single = ThreadCommunicator.world(1, 10_000).get(0))
        {
            final SynchronousStep step = new SynchronousStep(graph, single, 0);
            final StepResult first = step.step(x, labels, BATCH, 0.05);
            assertEquals(RIGHT, first.localCorrect(), "correct top-1 predictions of the step's forward pass");
            final StepResult second = step.step(x, labels, BATCH, 0.05);
            assertTrue(second.localCorrect() >= 0 && second.localCorrect() <= BATCH, "counted again on the next step");
        }
    }

    @Test
    void outputBehindAPreprocessorIsReportedAsNotMeasured() throws Exception
    {
        // conv -> dense output: DL4J inserts a CNN-to-feed-forward preprocessor in front of the output layer.
        final ComputationGraph graph = DdpHarness.init(new NeuralNetConfiguration.Builder()
            .seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).graphBuilder()
            .addInputs("in").setInputTypes(InputType.convolutional(16, 16, 3))
            .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(2).build(), "in")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(DdpHarness.CLASSES)
                .activation(Activation.SOFTMAX).build(), "conv")
            .setOutputs("out").build());
        assertFalse(BatchAccuracyProbe.attach(graph).supported());
        final INDArray[] batch = DdpHarness.data(1, 8, 6).get(0);
        try (Communicator single = ThreadCommunicator.world(1, 10_000).get(0))
        {
            assertEquals(-1, new SynchronousStep(graph, single, 0).step(batch[0], batch[1], 8, 0.1).localCorrect());
        }
    }
}
