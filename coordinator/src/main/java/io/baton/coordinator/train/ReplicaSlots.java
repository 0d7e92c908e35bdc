package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.spark.NotEnoughSlotsException;
import io.baton.coordinator.spark.SlotCheck;
import org.apache.spark.api.java.JavaSparkContext;

import java.time.Duration;

/**
 * How many replicas a stage can run with: all configured ones, or (elastic, {@code elastic.min-replicas}) as many as
 * the cluster's slots allow above the minimum, waiting up to {@code cluster.slot-wait} for the rest.
 *
 * <p>Threading: stateless; the driver's thread, which it blocks while waiting for slots.
 */
final class ReplicaSlots
{
    private static final Duration POLL_INTERVAL = Duration.ofMillis(200);

    private ReplicaSlots()
    {
    }

    /** {@link #available} once the run has started: too few slots then fail the job (exit 1), not usage. */
    static int availableLater(final BatonConfig config, final JavaSparkContext sc, final int replicas)
    {
        try
        {
            return available(config, sc, replicas);
        }
        catch (final NotEnoughSlotsException ex)
        {
            throw new IllegalStateException(ex.getMessage() + "; the same command resumes from the newest checkpoint",
                ex);
        }
    }

    /**
     * Replicas that can run now: all configured ones, or (elastic) as many as the slots allow above the minimum.
     *
     * @throws NotEnoughSlotsException when not even the minimum can run.
     */
    static int available(final BatonConfig config, final JavaSparkContext sc, final int replicas)
    {
        final int min = config.get(CoordinatorKeys.ELASTIC_MIN_REPLICAS);
        final Duration wait = config.get(CoordinatorKeys.CLUSTER_SLOT_WAIT);
        if (min == 0 || min >= replicas)
        {
            SlotCheck.require(sc, replicas, wait);
            return replicas;
        }
        final long deadlineNs = System.nanoTime() + wait.toNanos();
        int slots = SlotCheck.slots(sc);
        while (slots < replicas && System.nanoTime() < deadlineNs)
        {
            DriverSleep.sleep(POLL_INTERVAL);
            slots = SlotCheck.slots(sc);
        }
        if (slots >= replicas)
        {
            return replicas;
        }
        SlotCheck.require(sc, min, Duration.ZERO);
        return slots;
    }
}
