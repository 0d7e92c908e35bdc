package io.baton.coordinator.spark;

import org.apache.spark.api.java.JavaSparkContext;

import java.time.Duration;

/**
 * Checks, before a barrier stage is launched, that the cluster can run all replicas at once. Spark would otherwise
 * wait (and retry its own check) silently for minutes. Slots are the cluster's task slots as Spark counts them:
 * total executor cores / {@code spark.task.cpus}, or the N of {@code local[N]}.
 */
public final class SlotCheck
{
    private SlotCheck()
    {
    }

    /**
     * Waits up to {@code wait} for executors to register, then fails if fewer than {@code replicas} slots exist.
     *
     * @return the number of slots found.
     * @throws NotEnoughSlotsException naming the replicas wanted, the slots found, the master and what to change.
     * @throws IllegalStateException when Spark stopped the application meanwhile.
     */
    public static int require(final JavaSparkContext sc, final int replicas, final Duration wait)
    {
        final long deadlineNs = System.nanoTime() + wait.toNanos();
        int slots = slots(sc);
        while (slots < replicas && System.nanoTime() < deadlineNs)
        {
            if (sc.sc().isStopped())
            {
                throw new IllegalStateException("Spark stopped the application while waiting for " + replicas
                    + " task slots on master " + sc.master() + " (the log above says why, e.g. 'All masters are "
                    + "unresponsive')");
            }
            try
            {
                Thread.sleep(200);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                break;
            }
            slots = slots(sc);
        }
        if (slots < replicas)
        {
            throw new NotEnoughSlotsException(shortage(sc, replicas, slots, wait));
        }
        return slots;
    }

    /** One line: what is missing and what to change (on YARN, the executors asked for and the queue). */
    static String shortage(final JavaSparkContext sc, final int replicas, final int slots, final Duration wait)
    {
        final String found = "the cluster cannot run " + replicas + " replicas at once: master " + sc.master()
            + " has " + slots + " task slot(s) (" + executors(sc) + " executor(s), spark.task.cpus=" + taskCpus(sc)
            + ") after waiting " + wait.toSeconds() + " s; ";
        if (!sc.master().startsWith("yarn"))
        {
            return found + "lower train.replicas, add executors or cores, or raise cluster.slot-wait";
        }
        final org.apache.spark.SparkConf conf = sc.getConf();
        final int instances = conf.getInt("spark.executor.instances", 2);
        final int cores = conf.getInt("spark.executor.cores", 1);
        final int asked = instances * (cores / taskCpus(sc));
        final String queue = "YARN queue " + conf.get("spark.yarn.queue", "default");
        if (asked < replicas)
        {
            return found + "spark.executor.instances=" + instances + " x spark.executor.cores=" + cores + " / "
                + "spark.task.cpus gives only " + asked + " slot(s) even when the " + queue + " grants every "
                + "executor: raise spark.executor.instances (or cores), or lower train.replicas";
        }
        return found + "the " + queue + " has not granted all spark.executor.instances=" + instances + " executor "
            + "containers (spark.executor.memory=" + conf.get("spark.executor.memory", "1g") + " plus overhead, "
            + cores + " core(s) each): give the queue that capacity (or submit to another with --queue), ask for "
            + "smaller executors, lower train.replicas, or raise cluster.slot-wait if YARN is only slow";
    }

    /**
     * Task slots Spark can run at once right now, counted the way Spark's own barrier check counts them (registered
     * executors' cores / task cpus, or the N of {@code local[N]}).
     */
    public static int slots(final JavaSparkContext sc)
    {
        final org.apache.spark.SparkContext context = sc.sc();
        return context.maxNumConcurrentTasks(context.resourceProfileManager().defaultResourceProfile());
    }

    private static int executors(final JavaSparkContext sc)
    {
        // The driver is listed too; in local mode it is the only (and a working) executor.
        final int listed = sc.sc().statusTracker().getExecutorInfos().length;
        return sc.master().startsWith("local[") || "local".equals(sc.master()) ? listed : Math.max(0, listed - 1);
    }

    private static int taskCpus(final JavaSparkContext sc)
    {
        return Math.max(1, sc.getConf().getInt("spark.task.cpus", 1));
    }
}
