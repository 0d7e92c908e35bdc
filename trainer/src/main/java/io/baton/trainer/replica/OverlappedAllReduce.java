package io.baton.trainer.replica;

import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.backend.DenseFloats;
import io.baton.trainer.syncbn.SyncBatchNormLayer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The gradient all-reduce of a step, overlapped with the backward pass as in PyTorch DDP and Horovod: while the
 * training thread is still backpropagating through the lower layers, a communication thread SUM-all-reduces the
 * buckets of the flat gradient whose slots are already final.
 *
 * <p>Ready points come from the graph's {@link SyncBatchNormLayer}s: each one reports, just before it waits for
 * its peers in backward, that its gradient and every gradient after it in the flat vector are final. The buckets
 * ({@link GradientBuckets}) are cut at those points only, so the result is the same on every rank and from run to
 * run. With two ranks a SUM does not depend on how the vector is cut, so the result equals the plain all-reduce
 * bit for bit; with more ranks, the ring's order of addition follows the cut (to a float rounding). A graph
 * without SyncBatchNorm has no ready points: its whole gradient is reduced at {@link #finish()}, as without
 * overlap.
 *
 * <p>It uses its own communicator (a second set of Aeron streams between the same ranks), because a
 * {@link Communicator} runs one operation at a time and SyncBatchNorm's collectives run on the training thread
 * during backward. On a replica with one core the communication thread can only use the time the training thread
 * waits; with more cores, or a GPU, it runs beside backward.
 *
 * <p>Threading: {@link #begin}, {@link #finish} and the ready notifications run on the training thread, one step at
 * a time; the reductions run on this object's thread. {@link #close()} may be called from any thread; it stops the
 * thread and closes the communicator, in that order.
 */
public final class OverlappedAllReduce implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(OverlappedAllReduce.class);
    private static final long WAIT_SLICE_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long JOIN_MS = 5_000;

    private final Communicator communicator;
    private final GradientBuckets plan;
    private final List<GradientBuckets.Bucket> buckets;
    private final Map<SyncBatchNormLayer, Long> readyPoints;
    private final Thread thread;

    /** Address of the flat gradient's first float for the step in progress. */
    private volatile long address;
    /** Lowest offset from which the gradient of the step in progress is final; length when nothing is. */
    private volatile long readyFrom;
    /** Steps begun (written by the training thread). */
    private volatile long stepsBegun;
    /** Buckets reduced since creation (written by the communication thread). */
    private volatile long bucketsDone;
    /** Offset the communication thread waits for (its next bucket's lo), or -1 when it waits for no offset. */
    private volatile long waitingFor = -1;
    private volatile Thread waiter;
    private volatile Throwable failure;
    private volatile boolean closed;
    private boolean inStep;
    private long exposedNs;

    /**
     * Plans the buckets of {@code graph}'s flat gradient, installs the ready notifications on its SyncBatchNorm layers
     * and starts the communication thread.
     *
     * @param graph        an initialised graph with a dense FLOAT flat gradient.
     * @param communicator spans the same world as the step's communicator, but is not used by anything else; owned
     *                     from here on (closed by {@link #close()}, also when this constructor fails).
     * @param bucketBytes  smallest bucket in bytes (the last may be smaller).
     */
    public OverlappedAllReduce(final ComputationGraph graph, final Communicator communicator, final long bucketBytes)
    {
        this.communicator = Objects.requireNonNull(communicator, "communicator");
        Thread started = null;
        try
        {
            if (graph.getFlattenedGradients() == null)
            {
                graph.initGradientsView();
            }
            final INDArray flat = graph.getFlattenedGradients();
            if (flat == null || flat.dataType() != DataType.FLOAT || flat.ordering() != 'c'
                || flat.elementWiseStride() != 1)
            {
                throw new IllegalArgumentException("overlapped all-reduce needs a dense FLOAT flat gradient, got "
                    + (flat == null ? "none" : flat.dataType() + " " + flat.ordering() + " ews="
                    + flat.elementWiseStride()));
            }
            if (bucketBytes < Float.BYTES)
            {
                throw new IllegalArgumentException("bucketBytes must be >= 4, was " + bucketBytes);
            }
            this.readyPoints = readyPoints(graph, flat);
            this.plan = new GradientBuckets(flat.length(), new ArrayList<>(readyPoints.values()),
                bucketBytes / Float.BYTES);
            this.buckets = plan.buckets();
            this.readyFrom = plan.length();
            for (final SyncBatchNormLayer layer : readyPoints.keySet())
            {
                layer.gradientListener(this::onGradientsFinal);
            }
            started = new Thread(this::run, "baton-grad-allreduce-r" + communicator.rank());
            started.setDaemon(true);
            this.thread = started;
            started.start();
            LOG.debug("rank {}: overlapped gradient all-reduce, {}", communicator.rank(), plan);
        }
        catch (final RuntimeException | Error ex)
        {
            closed = true;
            if (started != null)
            {
                LockSupport.unpark(started);
            }
            communicator.close();
            throw ex;
        }
    }

    /**
     * Settings of the gradient communicator: the replica communicator's, on the next UDP stream id, so it shares the
     * replica's ports and driver.
     */
    public static CollectiveSettings communicatorSettings(final CollectiveSettings replica)
    {
        return replica.toBuilder().streamId(replica.streamId() + 1).build();
    }

    /** Job id of the gradient communicator: its own, so its IPC streams and messages stay apart from the replica's. */
    public static String communicatorJobId(final String replicaJobId)
    {
        return replicaJobId + "/gradients";
    }

    /** Where each SyncBatchNorm layer's gradient starts in the flat gradient. */
    private static Map<SyncBatchNormLayer, Long> readyPoints(final ComputationGraph graph, final INDArray flat)
    {
        final Map<SyncBatchNormLayer, Long> out = new IdentityHashMap<>();
        for (final Layer layer : graph.getLayers())
        {
            if (layer instanceof SyncBatchNormLayer)
            {
                final INDArray view = layer.getGradientsViewArray();
                if (view == null || view.data().address() != flat.data().address())
                {
                    throw new IllegalStateException("gradient of SyncBatchNorm layer '"
                        + layer.conf().getLayer().getLayerName() + "' is not a view of the flat gradient");
                }
                out.put((SyncBatchNormLayer)layer, view.offset() - flat.offset());
            }
        }
        return out;
    }

    /** The bucket plan. */
    public GradientBuckets plan()
    {
        return plan;
    }

    /** Messages its communicator refused since creation ({@link Communicator#rejectedMessages()}). */
    public long rejectedMessages()
    {
        return communicator.rejectedMessages();
    }

    /** Nanoseconds the training thread spent in {@link #finish()} since creation: the all-reduce not hidden. */
    public long exposedNs()
    {
        return exposedNs;
    }

    /**
     * Starts a step: from now on ready notifications hand buckets of {@code flatGradient} to the communication
     * thread. Call before the forward pass; every rank calls it for the same steps.
     */
    public void begin(final INDArray flatGradient)
    {
        if (inStep)
        {
            throw new IllegalStateException("overlapped all-reduce: the previous step's all-reduce never finished "
                + "(its step failed); this replica cannot continue");
        }
        rethrowFailure();
        if (flatGradient.length() != plan.length())
        {
            throw new IllegalArgumentException("flat gradient has " + flatGradient.length() + " floats, the bucket "
                + "plan " + plan.length());
        }
        address = DenseFloats.hostAddress(flatGradient);
        readyFrom = plan.length();
        inStep = true;
        stepsBegun = stepsBegun + 1;
        LockSupport.unpark(thread);
    }

    /**
     * Waits until every bucket of the step is reduced: the flat gradient then holds the SUM over ranks.
     *
     * @throws io.baton.common.collective.CollectiveException or another failure of the communication thread.
     */
    public void finish()
    {
        if (!inStep)
        {
            throw new IllegalStateException("finish() without begin()");
        }
        final long startNs = System.nanoTime();
        markReady(0);
        final long target = stepsBegun * buckets.size();
        waiter = Thread.currentThread();
        try
        {
            while (bucketsDone < target)
            {
                rethrowFailure();
                if (closed)
                {
                    throw new IllegalStateException("overlapped all-reduce closed during a step");
                }
                if (!thread.isAlive() && bucketsDone < target)
                {
                    rethrowFailure();
                    throw new IllegalStateException("overlapped all-reduce thread ended during a step");
                }
                LockSupport.parkNanos(this, WAIT_SLICE_NS);
            }
        }
        finally
        {
            waiter = null;
            exposedNs += System.nanoTime() - startNs;
        }
        inStep = false;
    }

    private void onGradientsFinal(final SyncBatchNormLayer layer)
    {
        if (inStep)
        {
            markReady(readyPoints.get(layer));
        }
    }

    private void markReady(final long from)
    {
        if (from < readyFrom)
        {
            readyFrom = from;
            final long wanted = waitingFor;
            if (wanted >= 0 && from <= wanted)
            {
                LockSupport.unpark(thread);
            }
        }
    }

    private void rethrowFailure()
    {
        final Throwable t = failure;
        if (t instanceof RuntimeException)
        {
            throw (RuntimeException)t;
        }
        if (t instanceof Error)
        {
            throw (Error)t;
        }
        if (t != null)
        {
            throw new IllegalStateException(t);
        }
    }

    private void run()
    {
        long step = 0;
        try
        {
            while (!closed)
            {
                while (stepsBegun == step)
                {
                    waitingFor = -1;
                    LockSupport.park(this);
                    if (closed)
                    {
                        return;
                    }
                }
                step++;
                final long base = address;
                for (final GradientBuckets.Bucket bucket : buckets)
                {
                    waitingFor = bucket.lo();
                    while (readyFrom > bucket.lo())
                    {
                        LockSupport.park(this);
                        if (closed)
                        {
                            return;
                        }
                    }
                    waitingFor = -1;
                    communicator.allReduce(base + bucket.lo() * Float.BYTES, bucket.floats(), ReduceOp.SUM);
                    bucketsDone = bucketsDone + 1;
                    final Thread w = waiter;
                    if (w != null)
                    {
                        LockSupport.unpark(w);
                    }
                }
            }
        }
        catch (final Throwable t)
        {
            failure = t;
            final Thread w = waiter;
            if (w != null)
            {
                LockSupport.unpark(w);
            }
        }
    }

    /** Stops the communication thread, then closes its communicator (which ends an all-reduce in progress). */
    @Override
    public void close()
    {
        if (closed && !thread.isAlive())
        {
            communicator.close();
            return;
        }
        closed = true;
        LockSupport.unpark(thread);
        // Ends an all-reduce in progress; the communicator's client is closed by whichever thread leaves it last.
        communicator.close();
        boolean interrupted = false;
        try
        {
            // Parked, it wakes on the unpark; in an all-reduce, it leaves at the communicator's next duty cycle.
            thread.join(JOIN_MS);
            if (thread.isAlive())
            {
                // Not where it should be (descheduled for seconds, or stuck elsewhere): an interrupt ends any wait.
                thread.interrupt();
                thread.join(JOIN_MS);
            }
        }
        catch (final InterruptedException ex)
        {
            interrupted = true;
        }
        if (thread.isAlive())
        {
            LOG.warn("rank {}: {} did not end within {} ms of close(); it is a daemon thread and ends with the "
                + "JVM", communicator.rank(), thread.getName(), 2 * JOIN_MS);
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
        for (final SyncBatchNormLayer layer : readyPoints.keySet())
        {
            layer.gradientListener(null);
        }
    }
}
