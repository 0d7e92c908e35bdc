package io.baton.trainer.replica;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GradientBucketsTest
{
    @Test
    void shouldCutAtReadyPointsFromTheTopIntoBucketsOfAtLeastTheGivenSize()
    {
        final GradientBuckets plan = new GradientBuckets(100, List.of(90L, 85L, 60L, 50L, 10L, 5L), 20);
        assertEquals(List.of(new GradientBuckets.Bucket(60, 100), new GradientBuckets.Bucket(10, 60),
            new GradientBuckets.Bucket(0, 10)), plan.buckets());
    }

    @Test
    void shouldGiveOneBucketPerReadyPointWhenBucketsAreSmallAndIgnorePointsOutsideTheVector()
    {
        final GradientBuckets plan = new GradientBuckets(10, List.of(3L, 7L, 0L, 10L, 12L, -1L, 7L), 1);
        assertEquals(List.of(new GradientBuckets.Bucket(7, 10), new GradientBuckets.Bucket(3, 7),
            new GradientBuckets.Bucket(0, 3)), plan.buckets());
    }

    @Test
    void shouldReduceTheWholeVectorAtOnceWithoutReadyPoints()
    {
        assertEquals(List.of(new GradientBuckets.Bucket(0, 42)), new GradientBuckets(42, List.of(), 4).buckets());
    }

    @Test
    void shouldRejectAnEmptyVectorOrBucket()
    {
        assertThrows(IllegalArgumentException.class, () -> new GradientBuckets(0, List.of(), 4));
        assertThrows(IllegalArgumentException.class, () -> new GradientBuckets(8, List.of(), 0));
    }
}
