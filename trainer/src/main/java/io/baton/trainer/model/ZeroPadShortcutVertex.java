package io.baton.trainer.model;

import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Configuration of the option-A shortcut (He et al. 2015): keep every {@code stride}-th row and column of an NCHW
 * input ({@code x[:, :, ::s, ::s]}) and append zero channels up to {@code outChannels}. No parameters. Survives
 * DL4J's JSON round trip; the runtime vertex is {@link ZeroPadShortcutGraphVertex}.
 */
public final class ZeroPadShortcutVertex extends GraphVertex
{
    @JsonProperty("stride")
    private int stride;
    @JsonProperty("outChannels")
    private long outChannels;

    /**
     * For JSON deserialisation only.
     */
    public ZeroPadShortcutVertex()
    {
        this(1, 1);
    }

    /**
     * @param stride      spatial subsampling step, >= 1.
     * @param outChannels output channels, at least the input's.
     */
    public ZeroPadShortcutVertex(final int stride, final long outChannels)
    {
        if (stride < 1 || outChannels < 1)
        {
            throw new IllegalArgumentException("stride and outChannels must be >= 1, stride=" + stride +
                ", outChannels=" + outChannels);
        }
        this.stride = stride;
        this.outChannels = outChannels;
    }

    public int stride()
    {
        return stride;
    }

    public long outChannels()
    {
        return outChannels;
    }

    public ZeroPadShortcutVertex clone()
    {
        return new ZeroPadShortcutVertex(stride, outChannels);
    }

    public boolean equals(final Object o)
    {
        return o instanceof ZeroPadShortcutVertex && ((ZeroPadShortcutVertex)o).stride == stride &&
            ((ZeroPadShortcutVertex)o).outChannels == outChannels;
    }

    public int hashCode()
    {
        return Objects.hash(stride, outChannels);
    }

    public long numParams(final boolean backprop)
    {
        return 0;
    }

    public int minVertexInputs()
    {
        return 1;
    }

    public int maxVertexInputs()
    {
        return 1;
    }

    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(
        final ComputationGraph graph,
        final String name,
        final int idx,
        final INDArray paramsView,
        final boolean initializeParams,
        final DataType networkDatatype)
    {
        return new ZeroPadShortcutGraphVertex(graph, name, idx, stride, outChannels, networkDatatype);
    }

    public InputType getOutputType(final int layerIndex, final InputType... vertexInputs)
        throws InvalidInputTypeException
    {
        if (vertexInputs.length != 1 || !(vertexInputs[0] instanceof InputType.InputTypeConvolutional))
        {
            throw new InvalidInputTypeException("ZeroPadShortcutVertex needs one convolutional input, got " +
                java.util.Arrays.toString(vertexInputs));
        }
        final InputType.InputTypeConvolutional in = (InputType.InputTypeConvolutional)vertexInputs[0];
        if (in.getChannels() > outChannels)
        {
            throw new InvalidInputTypeException("ZeroPadShortcutVertex cannot reduce channels: input channels=" +
                in.getChannels() + ", outChannels=" + outChannels);
        }
        return InputType.convolutional(
            subsampled(in.getHeight(), stride), subsampled(in.getWidth(), stride), outChannels);
    }

    public MemoryReport getMemoryReport(final InputType... inputTypes)
    {
        final InputType outputType = getOutputType(-1, inputTypes);
        return new LayerMemoryReport.Builder(null, ZeroPadShortcutVertex.class, inputTypes[0], outputType)
            .standardMemory(0, 0)
            .workingMemory(0, 0, 0, 0)
            .cacheMemory(0, 0)
            .build();
    }

    public String toString()
    {
        return "ZeroPadShortcutVertex(stride=" + stride + ", outChannels=" + outChannels + ")";
    }

    static long subsampled(final long size, final int stride)
    {
        return (size + stride - 1) / stride;
    }
}
