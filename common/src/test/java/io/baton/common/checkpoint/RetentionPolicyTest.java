package io.baton.common.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RetentionPolicyTest
{
    @Test
    void shouldKeepOnlyTheNewestKWithoutKeepEvery()
    {
        assertEquals(List.of(10L, 20L), RetentionPolicy.keepLast(2).stepsToDelete(List.of(40L, 10L, 30L, 20L), 40));
        assertEquals(List.of(), RetentionPolicy.keepLast(5).stepsToDelete(List.of(10L, 20L), 20));
        assertEquals(List.of(), RetentionPolicy.keepLast(1).stepsToDelete(List.of(7L), 7));
    }

    @Test
    void shouldAlsoKeepPositiveMultiplesOfKeepEveryTimesEvery()
    {
        final RetentionPolicy policy = RetentionPolicy.of(2, 4, 100);
        assertEquals(400, policy.keepEverySteps());
        assertEquals(List.of(0L, 100L, 200L, 300L, 500L, 600L, 700L, 900L),
            policy.stepsToDelete(List.of(0L, 100L, 200L, 300L, 400L, 500L, 600L, 700L, 800L, 900L, 1000L, 1100L),
                1100));
    }

    @Test
    void shouldCountKeptForeverCheckpointsAmongTheNewestK()
    {
        // 800 is both one of the newest 2 and a multiple of 400: 700 is not kept in its place.
        assertEquals(List.of(700L), RetentionPolicy.of(2, 4, 100).stepsToDelete(List.of(400L, 700L, 800L, 900L), 900));
    }

    @Test
    void shouldAlwaysKeepTheJustPublishedAndDeleteNewerAbandonedOnes()
    {
        assertEquals(List.of(10L, 40L, 50L), RetentionPolicy.keepLast(2).stepsToDelete(
            List.of(10L, 20L, 30L, 40L, 50L), 30));
    }

    @Test
    void shouldRefuseKeepingNothing()
    {
        assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.keepLast(0));
        assertThrows(IllegalArgumentException.class, () -> new RetentionPolicy(1, -1));
    }
}
