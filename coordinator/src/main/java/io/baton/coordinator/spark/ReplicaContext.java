package io.baton.coordinator.spark;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.resource.ResourceInformation;

import java.util.Arrays;
import java.util.List;

/**
 * What a replica knows about its place in the gang: rank, world size, the accelerators Spark assigned to it, and
 * the rendezvous (Spark's {@code BarrierTaskContext.allGather}). Valid only inside its barrier task's thread.
 */
public final class ReplicaContext
{
    private final BarrierTaskContext task;
    private final int worldSize;

    ReplicaContext(final BarrierTaskContext task, final int worldSize)
    {
        this.task = task;
        this.worldSize = worldSize;
    }

    /** The replica's rank: its barrier task's partition id, 0 .. worldSize-1. */
    public int rank()
    {
        return task.partitionId();
    }

    public int worldSize()
    {
        return worldSize;
    }

    /** Spark's attempt number of this task (0 on the first try). */
    public int attempt()
    {
        return task.attemptNumber();
    }

    /** Spark stage attempt, which changes when the whole barrier stage is retried. */
    public int stageAttempt()
    {
        return task.stageAttemptNumber();
    }

    /**
     * Exchanges one string per rank; element i of the result is rank i's message, on every rank. Blocks until all
     * ranks called it (Spark's barrier timeout applies), and returns as soon as the driver's reply is in rather than
     * on Spark's once-a-second poll ({@link PromptBarrier}).
     */
    public List<String> allGather(final String message)
    {
        return Arrays.asList(PromptBarrier.call(task, () -> task.allGather(message)));
    }

    /**
     * True once Spark killed this task (the job was cancelled), or this JVM's Spark environment stopped (in local
     * mode the driver's Spark context stopping, e.g. at Ctrl-C, leaves running tasks running). The replicas talk over
     * Aeron, not through Spark, so nothing else would stop them: the training loop checks this each step.
     */
    public boolean cancelled()
    {
        final SparkEnv env = SparkEnv.get();
        return task.isInterrupted() || env == null || env.isStopped();
    }

    /** Waits until every rank reached this point (returning as promptly as {@link #allGather}). */
    public void barrier()
    {
        PromptBarrier.call(task, () ->
        {
            task.barrier();
            return null;
        });
    }

    /** The GPU addresses Spark assigned to this task (empty without GPU resource scheduling). */
    public List<String> gpuAddresses()
    {
        final ResourceInformation gpu = task.resources().get("gpu").getOrElse(() -> null);
        return gpu == null ? List.of() : Arrays.asList(gpu.addresses());
    }

    /** The executor host this task runs on (Spark reports {@code host:port}; the port is dropped). */
    public String host()
    {
        final String address = task.getTaskInfos().length > rank() ? task.getTaskInfos()[rank()].address()
            : "localhost";
        final int colon = address.lastIndexOf(':');
        return colon > 0 && address.indexOf(':') == colon ? address.substring(0, colon) : address;
    }
}
