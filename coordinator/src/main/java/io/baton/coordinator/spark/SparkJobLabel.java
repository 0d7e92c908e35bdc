package io.baton.coordinator.spark;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * How a Baton Spark job reads in the Spark UI: its job group (the Jobs page's "Job Group" column, and what
 * {@code sc.cancelJobGroup} takes), its description (the Jobs and Stages pages' description column) and its stage
 * name (the call site, which the Stages page shows instead of {@code collect at BarrierLauncher.java:44}), e.g.
 * {@code baton train job=nightly stage 3: replicas 0-1, steps 120-239 of 400 (resumed from checkpoint step 119)}.
 *
 * @param group       job group id, {@code baton-<command>-<job name>}.
 * @param description one line saying which replica set runs which steps.
 */
public record SparkJobLabel(String group, String description)
{
    private static final String DESCRIPTION = "spark.job.description";
    private static final String GROUP = "spark.jobGroup.id";
    private static final String INTERRUPT = "spark.job.interruptOnCancel";
    private static final String CALL_SITE_SHORT = "callSite.short";
    private static final String CALL_SITE_LONG = "callSite.long";
    private static final String[] KEYS = {DESCRIPTION, GROUP, INTERRUPT, CALL_SITE_SHORT, CALL_SITE_LONG};

    /**
     * One training stage.
     *
     * @param stage            0-based stage number of this driver (a relaunch or an elastic change starts a new one).
     * @param worldSize        replicas of the stage.
     * @param configured       replicas configured ({@code train.replicas}); more than {@code worldSize} when elastic.
     * @param startStep        first step the stage runs (0-based, as in {@code metrics.jsonl}).
     * @param endStep          the step it stops before (the run's end, or an elastic stage's checkpoint boundary).
     * @param totalSteps       the run's steps at this world size.
     * @param checkpointStep   step of the checkpoint the stage resumes from, -1 for the initial weights.
     */
    public static SparkJobLabel train(final String jobName, final int stage, final int worldSize, final int configured,
        final long startStep, final long endStep, final long totalSteps, final long checkpointStep)
    {
        final StringBuilder text = new StringBuilder("baton train job=").append(jobName).append(" stage ").append(stage)
            .append(": ").append(replicas(worldSize));
        if (worldSize != configured)
        {
            text.append(" (").append(worldSize).append(" of ").append(configured).append(" configured)");
        }
        text.append(", steps ").append(startStep).append('-').append(endStep - 1).append(" of ").append(totalSteps);
        if (checkpointStep >= 0)
        {
            text.append(" (resumed from checkpoint step ").append(checkpointStep).append(')');
        }
        return new SparkJobLabel("baton-train-" + jobName, text.toString());
    }

    /** The evaluation of {@code model} by {@code replicas} replicas. */
    public static SparkJobLabel evaluate(final String jobName, final int replicas, final String model)
    {
        return new SparkJobLabel("baton-evaluate-" + jobName, "baton evaluate job=" + jobName + ": "
            + replicas(replicas) + ", model " + model);
    }

    /** The sharding of one split. */
    public static SparkJobLabel prepare(final String split, final int files, final int shards, final String output)
    {
        return new SparkJobLabel("baton-prepare", "baton prepare " + split + ": " + files + " files into " + shards
            + " shards of " + output);
    }

    /** {@code replica 0}, {@code replicas 0-3}. */
    static String replicas(final int count)
    {
        return count == 1 ? "replica 0" : "replicas 0-" + (count - 1);
    }

    /**
     * Labels the jobs this thread submits to {@code sc} until the returned scope is closed, which puts back what the
     * thread had before (the context may be a user's, with its own group and description).
     */
    public Scope apply(final JavaSparkContext sc)
    {
        final String[] previous = new String[KEYS.length];
        for (int i = 0; i < KEYS.length; i++)
        {
            previous[i] = sc.getLocalProperty(KEYS[i]);
        }
        sc.setJobGroup(group, description, false);
        sc.setCallSite(description);
        return () ->
        {
            for (int i = 0; i < KEYS.length; i++)
            {
                sc.setLocalProperty(KEYS[i], previous[i]);
            }
        };
    }

    /** Restores the thread's previous labels; no checked exception. */
    public interface Scope extends AutoCloseable
    {
        @Override
        void close();
    }
}
