package io.baton.trainer.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Runtime side of {@link ZeroPadShortcutVertex}: forward copies the subsampled input into the first channels of a
 * zero output; backward routes the gradient of those channels back to the sampled positions.
 */
public final class ZeroPadShortcutGraphVertex extends BaseGraphVertex
{
    private final int stride;
    private final long outChannels;

    ZeroPadShortcutGraphVertex(
        final ComputationGraph graph,
        final String name,
        final int vertexIndex,
        final int stride,
        final long outChannels,
        final DataType dataType)
    {
        super(graph, name, vertexIndex, null, null, dataType);
        this.stride = stride;
        this.outChannels = outChannels;
    }

    public boolean hasLayer()
    {
        return false;
    }

    public Layer getLayer()
    {
        return null;
    }

    public INDArray doForward(final boolean training, final LayerWorkspaceMgr workspaceMgr)
    {
        if (!canDoForward())
        {
            throw new IllegalStateException("cannot do forward pass: input not set, vertex=" + vertexName);
        }
        final INDArray in = inputs[0];
        final long channels = in.size(1);
        final long[] outShape = {
            in.size(0),
            outChannels,
            ZeroPadShortcutVertex.subsampled(in.size(2), stride),
            ZeroPadShortcutVertex.subsampled(in.size(3), stride)};
        final INDArray out = workspaceMgr.create(ArrayType.ACTIVATIONS, in.dataType(), outShape, 'c');
        out.get(channelRange(channels)).assign(in.get(sampled(in)));
        return out;
    }

    public Pair<Gradient, INDArray[]> doBackward(final boolean tbptt, final LayerWorkspaceMgr workspaceMgr)
    {
        if (!canDoBackward())
        {
            throw new IllegalStateException("cannot do backward pass: epsilon not set, vertex=" + vertexName);
        }
        final INDArray in = inputs[0];
        final INDArray epsIn = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), in.shape(), 'c');
        epsIn.get(sampled(in)).assign(epsilon.get(channelRange(in.size(1))));
        return new Pair<>(null, new INDArray[]{epsIn});
    }

    public void setBackpropGradientsViewArray(final INDArray backpropGradientsViewArray)
    {
        if (backpropGradientsViewArray != null)
        {
            throw new IllegalArgumentException("ZeroPadShortcutVertex has no parameters, vertex=" + vertexName);
        }
    }

    public Pair<INDArray, MaskState> feedForwardMaskArrays(
        final INDArray[] maskArrays, final MaskState currentMaskState, final int minibatchSize)
    {
        if (maskArrays == null || maskArrays.length == 0)
        {
            return null;
        }
        return new Pair<>(maskArrays[0], currentMaskState);
    }

    public String toString()
    {
        return "ZeroPadShortcutGraphVertex(name=" + vertexName + ", stride=" + stride + ", outChannels=" +
            outChannels + ")";
    }

    private INDArrayIndex[] sampled(final INDArray in)
    {
        return new INDArrayIndex[]{
            NDArrayIndex.all(),
            NDArrayIndex.all(),
            NDArrayIndex.interval(0, stride, in.size(2)),
            NDArrayIndex.interval(0, stride, in.size(3))};
    }

    private static INDArrayIndex[] channelRange(final long channels)
    {
        return new INDArrayIndex[]{
            NDArrayIndex.all(), NDArrayIndex.interval(0, channels), NDArrayIndex.all(), NDArrayIndex.all()};
    }
}
