package io.baton.trainer.backend;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the CPU fast path is really on: the oneDNN native variant is loaded and DL4J's layers hold oneDNN
 * helpers. Fails if the compatibility shim, the classifier or the system properties regress.
 */
class OneDnnFastPathTest
{
    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void buildPackagesAndSelectsTheOneDnnNativeVariant()
    {
        assertTrue(NativeRuntime.buildExtension().contains("onednn"),
            "build property nd4j.extension should name a oneDNN variant, was '" + NativeRuntime.buildExtension() + "'");
        assertEquals(NativeRuntime.buildExtension(), System.getProperty(NativeRuntime.PLATFORM_EXTENSION));
        assertEquals("CPU", Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));
    }

    @Test
    void dl4jReportsOneDnnHelpersEnabled()
    {
        assertTrue(org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN(),
            "libnd4j in use was not built with oneDNN");
        assertTrue(NativeRuntime.oneDnnHelpersActive(), "DL4J's oneDNN helper check failed: " + NativeRuntime.describe());
    }

    @Test
    void convolutionAndBatchNormLayersUseOneDnnHelpersAfterAStep()
    {
        final MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
            .seed(1)
            .convolutionMode(ConvolutionMode.Same)
            .list()
            .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
            .layer(new BatchNormalization.Builder().build())
            .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build())
            .setInputType(InputType.convolutional(8, 8, 2))
            .build();
        final MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        final INDArray x = Nd4j.rand(new int[] {2, 2, 8, 8});
        final INDArray y = Nd4j.zeros(2, 3);
        y.putScalar(0, 0, 1.0);
        y.putScalar(1, 2, 1.0);
        net.fit(x, y);

        final Object convHelper = net.getLayer(0).getHelper();
        assertNotNull(convHelper, "convolution layer has no helper: oneDNN fast path is off");
        assertTrue(convHelper.getClass().getName().contains("MKLDNN"), "unexpected helper " + convHelper.getClass());
        final Object bnHelper = net.getLayer(1).getHelper();
        assertNotNull(bnHelper, "batch normalisation layer has no helper: oneDNN fast path is off");
    }
}
