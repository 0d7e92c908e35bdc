package io.baton.trainer.layers;

import io.baton.trainer.backend.DenseFloats;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.ref.Reference;
import java.util.Collections;
import java.util.Map;

/**
 * DL4J's convolution helper contract on Baton's {@link OneDnnConvolution}: the replica's convolution layer calls it
 * as it would call DL4J's oneDNN helper, and it keeps one {@link OneDnnConvolution} (primitives, reorders) for the
 * shape it last saw. Calls it cannot serve go to {@code fallback} (DL4J's helper): another data type or layout, or a
 * shape oneDNN refuses; a refusal is logged once per layer with the reason, and that layer stays on the fallback.
 *
 * <p>Threading: one training thread at a time, as every DL4J layer.
 */
final class OneDnnConvHelper implements ConvolutionHelper
{
    private static final Logger LOG = LoggerFactory.getLogger(OneDnnConvHelper.class);

    private final String layerName;
    private final boolean hasBias;
    private final ConvolutionHelper fallback;
    private OneDnnConvolution plan;
    private boolean refused;
    private long forwardCalls;
    private long backwardCalls;

    /**
     * @param hasBias  whether the layer has a bias; without one DL4J still hands its helper a zero bias in forward
     *                 (and a dummy bias gradient in its own backprop), which this helper ignores.
     * @param fallback DL4J's helper for the calls this one cannot serve, or null (DL4J's built-in code).
     */
    OneDnnConvHelper(final String layerName, final boolean hasBias, final ConvolutionHelper fallback)
    {
        this.layerName = layerName;
        this.hasBias = hasBias;
        this.fallback = fallback;
    }

    /** DL4J's helper that takes the calls this one cannot serve (may be null: DL4J's built-in code). */
    ConvolutionHelper fallback()
    {
        return fallback;
    }

    /** Forward and backward calls served by oneDNN directly; for tests. */
    long[] callsServed()
    {
        return new long[] {forwardCalls, backwardCalls};
    }

    /** The current plan's chosen implementations, or null; for tests and logs. */
    String implementations()
    {
        return plan == null ? null : plan.implementations();
    }

    @Override
    public boolean checkSupported()
    {
        return true;
    }

    @Override
    public INDArray preOutput(final INDArray input, final INDArray weights, final INDArray bias, final int[] kernel,
        final int[] strides, final int[] pad, final ConvolutionLayer.AlgoMode mode,
        final ConvolutionLayer.FwdAlgo fwdAlgo, final ConvolutionMode convolutionMode, final int[] dilation,
        final CNN2DFormat format, final LayerWorkspaceMgr workspaceMgr)
    {
        if (!servable(input, weights, format) || hasBias && bias == null)
        {
            return fallback == null ? null : fallback.preOutput(input, weights, bias, kernel, strides, pad, mode,
                fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        final int inH = (int)input.size(2);
        final int inW = (int)input.size(3);
        final int[] outSize;
        final int[] topLeft;
        if (convolutionMode == ConvolutionMode.Same)
        {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, null, convolutionMode, dilation, format);
            topLeft = ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {inH, inW}, kernel, strides,
                dilation);
        }
        else
        {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, pad, convolutionMode, dilation, format);
            topLeft = pad;
        }
        final OneDnnConvolution conv = plan(input, weights, kernel, strides, topLeft, outSize, dilation, false);
        if (conv == null)
        {
            return fallback == null ? null : fallback.preOutput(input, weights, bias, kernel, strides, pad, mode,
                fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
        }
        final INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
            input.size(0), weights.size(0), outSize[0], outSize[1]);
        final INDArray x = dense(input);
        final INDArray w = dense(weights);
        final INDArray b = hasBias ? dense(bias) : null;
        conv.forward(DenseFloats.hostAddress(x), DenseFloats.hostAddress(w), b == null ? 0 : DenseFloats.hostAddress(b),
            DenseFloats.hostAddress(out));
        // dense copies must outlive the native call: ND4J frees an unreachable array's memory
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(w);
        Reference.reachabilityFence(b);
        forwardCalls++;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(final INDArray input, final INDArray weights,
        final INDArray bias, final INDArray delta, final int[] kernel, final int[] strides, final int[] pad,
        final INDArray biasGradView, final INDArray weightGradView, final IActivation afn,
        final ConvolutionLayer.AlgoMode mode, final ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
        final ConvolutionLayer.BwdDataAlgo bwdDataAlgo, final ConvolutionMode convolutionMode, final int[] dilation,
        final CNN2DFormat format, final LayerWorkspaceMgr workspaceMgr)
    {
        if (!servable(input, weights, format) || delta.dataType() != DataType.FLOAT
            || hasBias && (bias == null || biasGradView == null))
        {
            return fallback == null ? null : fallback.backpropGradient(input, weights, bias, delta, kernel, strides,
                pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation,
                format, workspaceMgr);
        }
        final int[] topLeft = convolutionMode == ConvolutionMode.Same
            ? ConvolutionUtils.getSameModeTopLeftPadding(new int[] {(int)delta.size(2), (int)delta.size(3)},
                new int[] {(int)input.size(2), (int)input.size(3)}, kernel, strides, dilation)
            : pad;
        final OneDnnConvolution conv = plan(input, weights, kernel, strides, topLeft,
            new int[] {(int)delta.size(2), (int)delta.size(3)}, dilation, true);
        if (conv == null)
        {
            return fallback == null ? null : fallback.backpropGradient(input, weights, bias, delta, kernel, strides,
                pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation,
                format, workspaceMgr);
        }
        final INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
            input.shape());
        final INDArray x = dense(input);
        final INDArray w = dense(weights);
        final INDArray dy = dense(delta);
        conv.backward(DenseFloats.hostAddress(x), DenseFloats.hostAddress(w), DenseFloats.hostAddress(dy),
            DenseFloats.hostAddress(gradAtInput), DenseFloats.hostAddress(weightGradView),
            hasBias ? DenseFloats.hostAddress(biasGradView) : 0);
        Reference.reachabilityFence(x);
        Reference.reachabilityFence(w);
        Reference.reachabilityFence(dy);
        backwardCalls++;
        final Gradient g = new DefaultGradient();
        if (hasBias)
        {
            g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(g, gradAtInput);
    }

    @Override
    public INDArray activate(final INDArray z, final IActivation afn, final boolean training)
    {
        return afn.getActivation(z, training);
    }

    @Override
    public Map<String, Long> helperMemoryUse()
    {
        return Collections.emptyMap();
    }

    private boolean servable(final INDArray input, final INDArray weights, final CNN2DFormat format)
    {
        return !refused && format == CNN2DFormat.NCHW && input.dataType() == DataType.FLOAT
            && weights.dataType() == DataType.FLOAT && input.rank() == 4;
    }

    /** The plan for these shapes (kept while they do not change), or null when oneDNN refuses them. */
    private OneDnnConvolution plan(final INDArray input, final INDArray weights, final int[] kernel,
        final int[] strides, final int[] topLeft, final int[] outSize, final int[] dilation, final boolean backward)
    {
        final long inH = input.size(2);
        final long inW = input.size(3);
        // the bottom/right padding that makes oneDNN's output size DL4J's (Same mode may pad one more there)
        final int padBottom = (int)((outSize[0] - 1L) * strides[0] + (kernel[0] - 1L) * dilation[0] + 1 - inH
            - topLeft[0]);
        final int padRight = (int)((outSize[1] - 1L) * strides[1] + (kernel[1] - 1L) * dilation[1] + 1 - inW
            - topLeft[1]);
        final OneDnnConvolution.Shape shape = new OneDnnConvolution.Shape(input.size(0), input.size(1), inH, inW,
            weights.size(0), outSize[0], outSize[1], kernel[0], kernel[1], strides[0], strides[1], topLeft[0],
            topLeft[1], padBottom, padRight, dilation[0], dilation[1], hasBias);
        try
        {
            if (plan == null || !plan.shape().equals(shape))
            {
                plan = new OneDnnConvolution(shape);
            }
            if (backward)
            {
                plan.ensureBackward();
            }
            return plan;
        }
        catch (final RuntimeException e)
        {
            refused = true;
            plan = null;
            LOG.warn("layer '{}': oneDNN refused convolution {} ({}); this layer uses DL4J's helper", layerName,
                shape, e.toString());
            return null;
        }
    }

    /** {@code a} itself when it is dense c-order, else a dense copy. */
    private static INDArray dense(final INDArray a)
    {
        return a.ordering() == 'c' && a.elementWiseStride() == 1 ? a : a.dup('c');
    }
}
