package io.baton.coordinator.train;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.baton.coordinator.train.TrainRuns.TOTAL_STEPS;
import static io.baton.coordinator.train.TrainRuns.config;
import static io.baton.coordinator.train.TrainRuns.params;
import static io.baton.coordinator.train.TrainRuns.train;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * World-size changes at resume: a run of two replicas continued by one (explicitly, or elastically when only one
 * slot is left) with the same global batch ends equal to the two-replica run within float rounding.
 */
class ElasticResumeTest
{
    /** Four steps of SyncBN and momentum in another summation order: a few float roundings, amplified. */
    private static final float TOLERANCE = 2e-3f;

    @TempDir
    static Path work;

    private static String reference;

    @BeforeAll
    static void uninterruptedRun()
    {
        reference = work.resolve("reference").toString();
        train(config(reference), ResumeRequest.auto());
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
        assertClose(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
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
        assertClose(params(reference, TOTAL_STEPS), params(run, TOTAL_STEPS));
    }

    private static void assertClose(final float[] expected, final float[] actual)
    {
        assertEquals(expected.length, actual.length);
        float worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++)
        {
            final float d = Math.abs(expected[i] - actual[i]) / Math.max(1f, Math.abs(expected[i]));
            if (!(d <= worst))
            {
                worst = d;
                at = i;
            }
        }
        assertTrue(worst <= TOLERANCE, "largest relative difference " + worst + " at " + at + ": " + expected[at]
            + " vs " + actual[at]);
        assertTrue(worst > 0 || at == -1, "sanity");
    }
}
