package io.baton.coordinator.train;

import io.baton.trainer.syncbn.BnGroups;

import java.util.Locale;

/**
 * The shape of a stage when fewer replicas than configured can run (the elastic policy), a pure function:
 * <ul>
 *   <li>all configured replicas: the configured global batch, unchanged;</li>
 *   <li>N' &lt; N replicas that divide the global batch G: keep G (each replica takes G/N' samples), so the
 *       trajectory stays the same up to float rounding;</li>
 *   <li>otherwise G' = N' x floor(G / N'), the largest multiple of N' below G; the learning rate follows the linear
 *       scaling rule (the schedule scales {@code optim.base-lr} by G' / {@code optim.base-batch}, a factor G'/G of
 *       the configured run) and re-warms up linearly over {@code elastic.rewarmup-steps}.</li>
 * </ul>
 * With SyncBatchNorm groups of k replicas ({@code syncbn.group-size}), N' is first rounded down to a multiple of the
 * group count N/k, and the stage's groups have N'/(N/k) replicas each: every group still normalises over the same
 * part of each global batch, so the trajectory stays the same up to float rounding.
 *
 * @param worldSize   replicas of the stage.
 * @param globalBatch global batch of the stage.
 * @param lrScale     G' / G: the stage's learning rate relative to the configured one.
 */
public record ElasticPlan(int worldSize, int globalBatch, double lrScale)
{
    /**
     * @param configuredBatch    {@code train.global-batch}.
     * @param configuredReplicas {@code train.replicas}.
     * @param availableReplicas  replicas that can run now (at least 1).
     */
    public static ElasticPlan of(final int configuredBatch, final int configuredReplicas, final int availableReplicas)
    {
        return of(configuredBatch, configuredReplicas, availableReplicas, 0);
    }

    /**
     * As {@link #of(int, int, int)}, with SyncBatchNorm groups of {@code groupSize} replicas (0: one group of all
     * replicas, which any world size keeps).
     *
     * @throws IllegalStateException if fewer replicas than groups can run.
     */
    public static ElasticPlan of(final int configuredBatch, final int configuredReplicas, final int availableReplicas,
        final int groupSize)
    {
        if (groupSize > 0 && availableReplicas < configuredReplicas)
        {
            final int groups = BnGroups.groupCount(configuredReplicas, groupSize);
            final int whole = availableReplicas - availableReplicas % groups;
            if (whole == 0)
            {
                throw new IllegalStateException("only " + availableReplicas + " of " + configuredReplicas
                    + " replicas can run, fewer than the " + groups + " SyncBatchNorm groups (train.replicas = "
                    + configuredReplicas + " / syncbn.group-size = " + groupSize + ")");
            }
            return of(configuredBatch, configuredReplicas, whole, 0);
        }
        if (availableReplicas < 1 || configuredReplicas < 1 || configuredBatch < configuredReplicas)
        {
            throw new IllegalArgumentException("need 1 <= replicas <= global batch: configuredBatch=" + configuredBatch
                + ", configuredReplicas=" + configuredReplicas + ", availableReplicas=" + availableReplicas);
        }
        final int n = Math.min(availableReplicas, configuredReplicas);
        if (n == configuredReplicas || configuredBatch % n == 0)
        {
            return new ElasticPlan(n, configuredBatch, 1.0);
        }
        final int batch = n * (configuredBatch / n);
        return new ElasticPlan(n, batch, (double) batch / configuredBatch);
    }

    /** The global batch differs from the configured one (the LR is rescaled and re-warmed up). */
    public boolean batchChanged(final int configuredBatch)
    {
        return globalBatch != configuredBatch;
    }

    public String describe()
    {
        return String.format(Locale.ROOT, "%d replicas, global batch %d, learning rate x %.4f", worldSize, globalBatch,
            lrScale);
    }
}
