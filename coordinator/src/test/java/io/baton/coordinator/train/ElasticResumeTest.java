package io.baton.coordinator.train;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * World-size changes at resume: a run of two replicas continued by one (explicitly, or elastically when only one
 * slot is left) with the same global batch ends equal to the two-replica run within float rounding, per element of
 * the parameters and of the momentum.
 *
 * <p>Float rounding is measured, not assumed ({@link RoundingFloor}): the two-replica run with another thread count
 * sums in another order, and its distance to the two-replica run is the floor. A resumed run may differ by at most
 * {@value #FLOOR_MULTIPLE} x that floor, and a 1 % learning-rate change must not fit in it (the negative control).
 */
class ElasticResumeTest
{
    /** A resumed run reorders the sums of at most as many steps as the floor run does (measured: 0.2-0.3 floors). */
    private static final double FLOOR_MULTIPLE = 4;

    @TempDir
    static Path work;

    private static String reference;
    private static RoundingFloor floor;

    @BeforeAll
    static void uninterruptedRuns() throws IOException
    {
        reference = work.resolve("reference").toString();
        train(config(reference), ResumeRequest.auto());
        final String otherThreads = work.resolve("reference-2-threads").toString();
        train(config(otherThreads, "train.threads-per-replica=2"), ResumeRequest.auto());
        floor = RoundingFloor.of(reference, otherThreads, FLOOR_MULTIPLE);

        final String otherLr = work.resolve("lr-plus-1-percent").toString();
        train(config(otherLr, "optim.base-lr=0.0505"), ResumeRequest.auto());
        floor.assertOutside("a 1 % learning-rate change", otherLr);
    }

    @Test
    void runOfTwoReplicasResumedWithOneEndsEqualWithinFloatRounding() throws Exception
    {
        final String run = work.resolve("two-then-one").toString();
        assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=5", "recovery.max-restarts=0"), ResumeRequest.auto()));

        final String output = train(config(run, "train.replicas=1", "cluster.master=\"local[1]\""),
            ResumeRequest.auto());

        assertTrue(output.contains("1 replicas (stage 0), global batch 8, from step 4 ("), output);
        floor.assertWithin("two replicas resumed with one", run);
    }

    @Test
    void elasticRunContinuesWithOneReplicaKeepingTheGlobalBatchAndRecordsIt() throws Exception
    {
        final String run = work.resolve("elastic").toString();
        assertThrows(TrainRuns.TrainFailed.class,
            () -> train(config(run, "debug.fail-at-step=5", "recovery.max-restarts=0"), ResumeRequest.auto()));

        final String output = train(config(run, "cluster.master=\"local[1]\"", "elastic.min-replicas=1"),
            ResumeRequest.auto());

        assertTrue(output.contains("ELASTIC: only 1 of 2 replicas can run; continuing with 1 replicas, global batch 8, "
            + "learning rate x 1.0000 (global batch kept)"), output);
        assertTrue(output.contains("from step 6 ("), "a degraded stage ends at the next checkpoint so the world can "
            + "grow back:\n" + output);
        final String events = Files.readString(Path.of(run, RunEvents.FILE));
        assertTrue(events.contains("\"event\":\"elastic\"") && events.contains("\"replicas\":1")
            && events.contains("\"global_batch\":8"), events);
        floor.assertWithin("an elastic stage of one replica", run);
    }
}
