package io.baton.trainer.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.exception.ND4JOpProfilerException;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DL4J's convolution layer without the second forward convolution in backprop. DL4J's
 * {@code ConvolutionLayer.backpropGradient} always recomputes the pre-activation output to differentiate the
 * activation; with an identity activation (every convolution of Baton's ResNets: BatchNorm follows) the derivative
 * is the incoming gradient itself and the recomputed output is discarded, so a third of the convolution work of a
 * training step was thrown away (issue 25's profile). This layer hands the incoming gradient straight to DL4J's
 * helper (oneDNN on CPU, cuDNN on CUDA), which is exactly what DL4J computes after the recomputation.
 *
 * <p>Everything else, and backprop whenever the shortcut does not apply (another activation, NHWC, weight noise, no
 * helper or a helper that failed or declined), is DL4J's own code path. Threading: like every DL4J layer, used by
 * one training thread.
 */
public class ReplicaConvolutionLayer extends ConvolutionLayer
{
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaConvolutionLayer.class);

    public ReplicaConvolutionLayer(final NeuralNetConfiguration conf, final DataType dataType)
    {
        super(conf, dataType);
        // decided at graph construction: the CPU backend with oneDNN's natives, else DL4J's helper stays
        if (conf.getLayer() instanceof ReplicaConvolution replica
            && ReplicaConvolution.ENGINE_ONEDNN.equals(replica.getConvEngine()) && OneDnn.available())
        {
            helper = new OneDnnConvHelper(replica.getLayerName(), replica.hasBias(), helper);
        }
    }

    /** The convolution helper (oneDNN, cuDNN) or null; for tests. */
    org.deeplearning4j.nn.layers.convolution.ConvolutionHelper helper()
    {
        return helper;
    }

    /** Replaces the helper; for tests (a counting wrapper). */
    void helper(final org.deeplearning4j.nn.layers.convolution.ConvolutionHelper replacement)
    {
        helper = replacement;
    }

    /** Whether backprop can skip the forward recomputation: identity activation on the helper, as DL4J would run. */
    boolean skipsForwardRecomputation()
    {
        final org.deeplearning4j.nn.conf.layers.ConvolutionLayer conf = layerConf();
        return helper != null
            && helperCountFail == 0
            && conf.getActivationFn() instanceof ActivationIdentity
            && conf.getCnn2dDataFormat() == CNN2DFormat.NCHW
            && conf.getWeightNoise() == null;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(final INDArray epsilonIn, final LayerWorkspaceMgr workspaceMgr)
    {
        if (!skipsForwardRecomputation())
        {
            return super.backpropGradient(epsilonIn, workspaceMgr);
        }
        assertInputSet(true);
        final INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        final INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
        final INDArray input = this.input.castTo(dataType);
        final INDArray epsilon = epsilonIn.dataType() == dataType ? epsilonIn : epsilonIn.castTo(dataType);

        final int[] dilation = layerConf().getDilation();
        final int[] kernel = layerConf().getKernelSize();
        final int[] strides = layerConf().getStride();
        final int[] pad;
        if (convolutionMode == ConvolutionMode.Same)
        {
            final int[] outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, null, convolutionMode,
                dilation, CNN2DFormat.NCHW);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(outSize,
                new int[] {(int)input.size(2), (int)input.size(3)}, kernel, strides, dilation);
        }
        else
        {
            pad = layerConf().getPadding();
            ConvolutionUtils.getOutputSize(input, kernel, strides, pad, convolutionMode, dilation,
                CNN2DFormat.NCHW); // validates, as DL4J's backprop does
        }

        INDArray biasGradView = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
        final INDArray weightGradView = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        if (!hasBias() && !(helper instanceof MKLDNNConvHelper) && !(helper instanceof OneDnnConvHelper))
        {
            // cuDNN needs a bias gradient even without a bias; as DL4J's backprop does
            if (dummyBiasGrad == null)
            {
                try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces())
                {
                    dummyBiasGrad = Nd4j.create(1, layerConf().getNOut());
                }
            }
            biasGradView = dummyBiasGrad;
        }

        Pair<Gradient, INDArray> ret = null;
        try
        {
            // the identity activation's derivative applied to epsilon is epsilon (ActivationIdentity.backprop)
            ret = helper.backpropGradient(input, weights, bias, epsilon, kernel, strides, pad, biasGradView,
                weightGradView, layerConf().getActivationFn(), layerConf().getCudnnAlgoMode(),
                layerConf().getCudnnBwdFilterAlgo(), layerConf().getCudnnBwdDataAlgo(), convolutionMode, dilation,
                CNN2DFormat.NCHW, workspaceMgr);
        }
        catch (final ND4JOpProfilerException e)
        {
            throw e;
        }
        catch (final RuntimeException e)
        {
            if (e.getMessage() != null && e.getMessage().contains("Failed to allocate")
                || !layerConf().isCudnnAllowFallback())
            {
                throw e;
            }
            helperCountFail++;
            LOG.warn("convolution helper backprop failed in layer '{}', falling back on DL4J's built-in code: {}",
                layerConf().getLayerName(), e.toString());
        }
        if (ret == null)
        {
            return super.backpropGradient(epsilonIn, workspaceMgr);
        }
        ret.setSecond(backpropDropOutIfPresent(ret.getRight()));
        return ret;
    }
}
