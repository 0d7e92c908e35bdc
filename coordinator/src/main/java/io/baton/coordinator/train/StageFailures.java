package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.spark.BarrierStageTasks;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.baton.coordinator.train.RunEvents.fields;

/**
 * What the driver does about a failed barrier stage before relaunching it: says in one line why it failed, kills the
 * executors of replicas a collective deadline named as silent, waits for the stage's remaining tasks to end, and
 * backs off before the restart.
 *
 * <p>Threading: stateless; the driver's thread, which it blocks while waiting.
 */
final class StageFailures
{
    /** TrainJob's category: these lines were always the job's, and are filtered and searched for as such. */
    private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);
    private static final Pattern SILENT_RANKS = Pattern.compile("waiting for ranks \\[([0-9, ]*)\\]");

    private StageFailures()
    {
    }

    /**
     * Asks the cluster manager to kill the executors of the ranks that a replica's collective deadline named as
     * silent (where it supports that: standalone, YARN, Kubernetes; not local mode, where the executor is this JVM).
     */
    static void killSilentExecutors(final JavaSparkContext sc, final BarrierStageTasks tasks,
        final Exception failure, final RunEvents events, final int stage, final PrintWriter out)
    {
        for (final int rank : silentRanks(failure))
        {
            final String executor = tasks.executorOf(rank).orElse(null);
            if (executor == null || executor.equals("driver"))
            {
                continue;
            }
            boolean killed;
            try
            {
                // Not killExecutor: that lowers the application's executor target, so no executor replaces it
                // (seen on local-cluster: the relaunch waited for a second slot in vain). killAndReplaceExecutor is
                // private[spark] in Scala, public in bytecode.
                killed = sc.sc().killAndReplaceExecutor(executor);
            }
            catch (final UnsupportedOperationException ex)
            {
                killed = false;
            }
            out.printf("rank %d was silent in a collective: %s its executor %s%n", rank,
                killed ? "killing" : "the cluster manager cannot kill", executor);
            out.flush();
            events.record("executor-killed", fields("stage", stage, "rank", rank, "executor", executor, "killed",
                killed), true);
        }
    }

    /** The ranks a collective deadline named as silent anywhere in {@code failure}'s messages (its causes too). */
    static SortedSet<Integer> silentRanks(final Throwable failure)
    {
        final SortedSet<Integer> ranks = new TreeSet<>();
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause())
        {
            final Matcher m = SILENT_RANKS.matcher(String.valueOf(t.getMessage()));
            while (m.find())
            {
                for (final String rank : m.group(1).split(","))
                {
                    if (!rank.isBlank())
                    {
                        ranks.add(Integer.parseInt(rank.trim()));
                    }
                }
            }
        }
        return ranks;
    }

    /**
     * The wait before restart number {@code restart} (from 1): {@code recovery.backoff} doubled per earlier restart,
     * at most {@code recovery.max-backoff}.
     */
    static Duration backoff(final BatonConfig config, final int restart)
    {
        final Duration base = config.get(CoordinatorKeys.RECOVERY_BACKOFF);
        final Duration max = config.get(CoordinatorKeys.RECOVERY_MAX_BACKOFF);
        final Duration wait = base.multipliedBy(1L << Math.min(20, restart - 1));
        return wait.compareTo(max) > 0 ? max : wait;
    }

    /**
     * Waits until no task of the failed stage still runs, at most {@code limit} ({@link BarrierStageTasks#awaitEnded}),
     * before a relaunch, or before the job gives up: nothing writes into the run after it returned.
     */
    static void awaitFailedStageTasks(final JavaSparkContext sc, final BarrierStageTasks tasks, final Duration limit)
    {
        final int left = tasks.awaitEnded(sc, limit, running -> LOG.info("waiting up to {} ms for {} task(s) of the "
            + "failed stage to end before the relaunch", limit.toMillis(), running));
        if (left > 0)
        {
            LOG.warn("{} task(s) of the failed stage still run after {} ms; relaunching anyway", left,
                limit.toMillis());
        }
    }

    /**
     * One line saying why a stage failed. Spark reports a failed barrier task as "Job aborted due to stage failure:
     * ... barrier task ... finished unsuccessfully." with the task's exception on the next line of the same message;
     * that line (what the replica said, e.g. "No space left on device") is what the user needs, so it is used when
     * present. Otherwise: the first line, plus the root cause when there is another one.
     */
    static String rootMessage(final Throwable ex)
    {
        final String[] lines = String.valueOf(ex.getMessage()).split("\n");
        for (int i = 1; i < lines.length; i++)
        {
            final String line = lines[i].trim();
            if (!line.isEmpty() && !line.startsWith("at ") && !line.startsWith("...")
                && !line.startsWith("Driver stacktrace"))
            {
                return "a replica failed: " + line;
            }
        }
        Throwable t = ex;
        while (t.getCause() != null && t.getCause() != t)
        {
            t = t.getCause();
        }
        return t == ex ? lines[0] : lines[0] + " (cause: " + t + ")";
    }
}
