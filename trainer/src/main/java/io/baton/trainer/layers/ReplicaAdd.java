package io.baton.trainer.layers;

import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Configuration of the replica's residual add: DL4J's {@code ElementWiseVertex(Add)}, whose vertex
 * ({@link ReplicaAddVertex}) sums two inputs of one shape in one pass instead of a copy and an in-place add, and
 * writes both input gradients in one pass; optionally ({@link #isFusedRelu()}, a {@link ReluFusible} of vertices) it
 * also applies the ReLU of the plain ReLU layer that alone consumes it. Values are DL4J's bit for bit.
 *
 * <p>Used only in the replica's training graph ({@link ReplicaLayers#toReplica}); an export holds DL4J's class
 * ({@link ReplicaLayers#toPlain}). Survives DL4J's JSON round trip. Threading: configuration objects are immutable
 * once the network is built.
 */
public class ReplicaAdd extends ElementWiseVertex implements ReluFusible
{
    private static final long serialVersionUID = 1L;

    /** Whether the training-mode output includes the ReLU of the layer after it. */
    protected boolean fusedRelu;

    /** For Jackson and {@link ReplicaLayers}: an unrectified add. */
    public ReplicaAdd()
    {
        super(Op.Add);
    }

    /** Bean accessors, which DL4J's Jackson mapper uses. */
    @Override
    public boolean isFusedRelu()
    {
        return fusedRelu;
    }

    @Override
    public void setFusedRelu(final boolean fusedRelu)
    {
        this.fusedRelu = fusedRelu;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(final ComputationGraph graph, final String name,
        final int idx, final INDArray paramsView, final boolean initializeParams, final DataType networkDatatype)
    {
        if (getOp() != Op.Add)
        {
            throw new IllegalStateException("ReplicaAdd vertex '" + name + "' must add, has op " + getOp());
        }
        return new ReplicaAddVertex(graph, name, idx, fusedRelu, networkDatatype);
    }

    @Override
    public ReplicaAdd clone()
    {
        final ReplicaAdd out = new ReplicaAdd();
        out.fusedRelu = fusedRelu;
        return out;
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof ReplicaAdd other && other.getOp() == getOp() && other.fusedRelu == fusedRelu;
    }

    @Override
    public int hashCode()
    {
        return 31 * getOp().hashCode() + (fusedRelu ? 5 : 4);
    }

    @Override
    public String toString()
    {
        return "ReplicaAdd(fusedRelu=" + fusedRelu + ")";
    }
}
