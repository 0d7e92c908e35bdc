package io.baton.trainer.run;

import io.baton.common.checkpoint.AsyncCheckpointWriter;
import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.checkpoint.CheckpointPart;
import io.baton.common.checkpoint.PartInfo;
import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.optim.LargeBatchSgd;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The float state of one replica as checkpoint parts, and back: {@value #PARAMS} (DL4J's flat parameter vector,
 * which holds the BatchNorm running mean and variance too), {@value #MOMENTUM} (the {@link LargeBatchSgd} momentum
 * buffer, when that optimiser is used) and {@value #UPDATER} (DL4J's updater state view, when it has one). Each part
 * is the raw float32 values in little-endian order, so a restore is bit-exact. Counters and positions travel in the
 * checkpoint's metadata.
 *
 * <p>{@link #snapshot()} copies into host buffers allocated once and reused: the caller (an
 * {@link AsyncCheckpointWriter} snapshot) guarantees the previous write finished before the next copy.
 * {@link #deferredSnapshot()} splits that in two: it finds the state's arrays now and copies them later, on another
 * thread, while the training thread runs the next forward and backward (which only read them).
 *
 * <p>Threading: the replica's training thread, except the copy returned by {@link #deferredSnapshot()}, which may run
 * on any one thread at a time (the writer thread). The host buffers belong to whichever copy runs; the
 * {@link AsyncCheckpointWriter} runs one snapshot at a time and orders them (future hand-offs).
 */
public final class ReplicaState
{
    public static final String PARAMS = "params";
    public static final String MOMENTUM = "momentum";
    public static final String UPDATER = "updater";

    private final ComputationGraph graph;
    private final LargeBatchSgd optimizer;
    private ByteBuffer paramsHost;
    private ByteBuffer momentumHost;
    private ByteBuffer updaterHost;

    public ReplicaState(final ComputationGraph graph, final LargeBatchSgd optimizer)
    {
        this.graph = graph;
        this.optimizer = optimizer;
    }

    /** Copies the state to host memory and returns it as parts (valid until the next snapshot). */
    public List<CheckpointPart> snapshot()
    {
        return new Sources().copy();
    }

    /**
     * Finds the state's arrays on this (the training) thread and returns the copy of them to host memory, to run
     * later on the writer thread: graph accessors stay on the training thread, and DL4J may replace its updater
     * state array between steps (the copy keeps reading the one of this step). Until the copy is done nothing may
     * write the parameters, momentum or updater state: see {@link AsyncCheckpointWriter#awaitSnapshot()}.
     */
    public AsyncCheckpointWriter.Snapshot deferredSnapshot()
    {
        final Sources sources = new Sources();
        return sources::copy;
    }

    /** The state's arrays as found on the training thread, and their float views. */
    private final class Sources
    {
        private final INDArray params = graph.params();
        private final INDArray momentum = optimizer == null ? null : optimizer.momentumBuffer();
        private final INDArray updater = updaterState(graph);
        private final FloatBuffer paramsView = DenseFloats.view(params);
        private final FloatBuffer momentumView = momentum == null ? null : DenseFloats.view(momentum);
        private final FloatBuffer updaterView = updater == null ? null : DenseFloats.view(updater);

        List<CheckpointPart> copy()
        {
            final List<CheckpointPart> parts = new ArrayList<>(3);
            paramsHost = ReplicaState.copy(paramsView, paramsHost);
            parts.add(CheckpointPart.ofBuffer(PARAMS, paramsHost));
            if (momentumView != null)
            {
                momentumHost = ReplicaState.copy(momentumView, momentumHost);
                parts.add(CheckpointPart.ofBuffer(MOMENTUM, momentumHost));
            }
            if (updaterView != null)
            {
                updaterHost = ReplicaState.copy(updaterView, updaterHost);
                parts.add(CheckpointPart.ofBuffer(UPDATER, updaterHost));
            }
            // The views do not own the native memory: keep its arrays reachable until the copy is over.
            Reference.reachabilityFence(params);
            Reference.reachabilityFence(momentum);
            Reference.reachabilityFence(updater);
            return parts;
        }
    }

    /**
     * Loads a checkpoint's state into this replica. Every part is read to its end, so sizes and checksums are
     * verified.
     *
     * @throws IllegalArgumentException when the checkpoint's parts do not fit this graph (another architecture).
     */
    public void restore(final Checkpoint checkpoint) throws IOException
    {
        load(checkpoint, PARAMS, graph.params());
        if (optimizer != null)
        {
            load(checkpoint, MOMENTUM, optimizer.momentumBuffer());
        }
        final INDArray updater = updaterState(graph);
        if (updater != null)
        {
            load(checkpoint, UPDATER, updater);
        }
    }

    private static INDArray updaterState(final ComputationGraph graph)
    {
        final INDArray state = graph.getUpdater() == null ? null : graph.getUpdater().getStateViewArray();
        return state == null || state.length() == 0 ? null : state;
    }

    private static ByteBuffer copy(final FloatBuffer source, final ByteBuffer reuse)
    {
        final long bytes = (long) source.remaining() * Float.BYTES;
        if (bytes > Integer.MAX_VALUE)
        {
            throw new IllegalArgumentException("state vector of " + source.remaining() + " floats exceeds one buffer");
        }
        final ByteBuffer target = reuse != null && reuse.capacity() == bytes ? reuse
            : ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        target.clear();
        target.asFloatBuffer().put(source.duplicate());
        return target;
    }

    private static void load(final Checkpoint checkpoint, final String name, final INDArray target)
        throws IOException
    {
        final PartInfo part = checkpoint.part(name);
        final long expected = target.length() * Float.BYTES;
        if (part.sizeBytes() != expected)
        {
            throw new IllegalArgumentException(checkpoint.path() + ": part '" + name + "' has " + part.sizeBytes()
                + " bytes, this replica's " + name + " needs " + expected + " (" + target.length()
                + " floats): the checkpoint is of another model");
        }
        final ByteBuffer host = ByteBuffer.allocate((int) expected).order(ByteOrder.LITTLE_ENDIAN);
        try (InputStream in = checkpoint.openPart(name))
        {
            final byte[] chunk = new byte[1 << 20];
            int n;
            while ((n = in.read(chunk)) >= 0)
            {
                host.put(chunk, 0, n);
            }
        }
        host.flip();
        DenseFloats.view(target).put(host.asFloatBuffer());
        DenseFloats.written(target);
    }

}
