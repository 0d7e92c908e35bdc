package io.baton.trainer.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobalBatchSamplerTest
{
    private static final long SEED = 20240611L;

    @Test
    void shouldGiveTheSameGlobalBatchesForEveryWorldSize()
    {
        final int n = 103;
        final int g = 12;
        final GlobalBatchSampler.EpochOrder single = new GlobalBatchSampler(n, g, 1, SEED, PartialBatchPolicy.DROP)
            .epoch(3);
        for (final int worldSize : new int[] {2, 3, 4, 5, 12})
        {
            final GlobalBatchSampler.EpochOrder order =
                new GlobalBatchSampler(n, g, worldSize, SEED, PartialBatchPolicy.DROP).epoch(3);
            assertEquals(single.steps(), order.steps());
            for (int s = 0; s < order.steps(); s++)
            {
                final int step = s;
                final int[] concatenated = IntStream.range(0, worldSize)
                    .flatMap(r -> Arrays.stream(order.slice(step, r))).toArray();
                assertArrayEquals(single.globalBatch(step), concatenated, "worldSize=" + worldSize + " step=" + step);
                for (int r = 0; r < worldSize; r++)
                {
                    assertEquals((r + 1) * g / worldSize - r * g / worldSize, order.slice(step, r).length);
                }
            }
        }
    }

    @Test
    void shouldPermuteEverySampleOnceAndDifferentlyPerEpoch()
    {
        final GlobalBatchSampler sampler = new GlobalBatchSampler(1000, 100, 4, SEED, PartialBatchPolicy.DROP);
        final int[] e0 = sampler.permutation(0);
        final int[] e1 = sampler.permutation(1);
        assertArrayEquals(IntStream.range(0, 1000).toArray(), Arrays.stream(e0).sorted().toArray());
        assertArrayEquals(IntStream.range(0, 1000).toArray(), Arrays.stream(e1).sorted().toArray());
        assertFalse(Arrays.equals(e0, e1), "epochs must be shuffled differently");
        assertFalse(Arrays.equals(e0, IntStream.range(0, 1000).toArray()), "epoch 0 must be shuffled");
        assertArrayEquals(e0, new GlobalBatchSampler(1000, 100, 4, SEED, PartialBatchPolicy.DROP).permutation(0));
        assertFalse(Arrays.equals(e0,
            new GlobalBatchSampler(1000, 100, 4, SEED + 1, PartialBatchPolicy.DROP).permutation(0)));
    }

    @Test
    void shouldDropTheLastPartialBatchByDefault()
    {
        final GlobalBatchSampler sampler = new GlobalBatchSampler(50, 16, 2, SEED, PartialBatchPolicy.DROP);
        final GlobalBatchSampler.EpochOrder order = sampler.epoch(0);
        assertEquals(3, order.steps());
        final Set<Integer> used = new HashSet<>();
        for (int s = 0; s < order.steps(); s++)
        {
            assertEquals(16, order.batchSize(s));
            Arrays.stream(order.globalBatch(s)).forEach(used::add);
        }
        assertEquals(48, used.size());
        final int[] perm = sampler.permutation(0);
        assertFalse(used.contains(perm[48]) || used.contains(perm[49]), "the last n mod G samples are dropped");
        assertThrows(IllegalArgumentException.class, () -> order.slice(3, 0));
    }

    @Test
    void shouldKeepTheLastPartialBatchWithUnevenAndEmptySlices()
    {
        final GlobalBatchSampler sampler = new GlobalBatchSampler(51, 16, 4, SEED, PartialBatchPolicy.KEEP_UNEVEN);
        final GlobalBatchSampler.EpochOrder order = sampler.epoch(2);
        assertEquals(4, order.steps());
        assertEquals(3, order.batchSize(3));
        final int[] sizes = IntStream.range(0, 4).map(r -> order.slice(3, r).length).toArray();
        assertArrayEquals(new int[] {0, 1, 1, 1}, sizes, "slices [r*3/4, (r+1)*3/4)");
        final int[] all = IntStream.range(0, 4).flatMap(s -> Arrays.stream(order.globalBatch(s))).toArray();
        assertArrayEquals(sampler.permutation(2), all, "every sample is used once");
    }

    @Test
    void shouldImplementSplitMix64AsSpecified()
    {
        final SplitMix64 mine = new SplitMix64(1234567L);
        final SplittableRandom jdk = new SplittableRandom(1234567L);
        for (int i = 0; i < 100; i++)
        {
            assertEquals(jdk.nextLong(), mine.nextLong());
        }
        final SplitMix64 reference = new SplitMix64(1234567L);
        assertEquals(6457827717110365317L, reference.nextLong(), "published SplitMix64 test vector");
        assertEquals(3203168211198807973L, reference.nextLong(), "published SplitMix64 test vector");
        final SplitMix64 bounded = new SplitMix64(7);
        final int[] counts = new int[3];
        for (int i = 0; i < 30_000; i++)
        {
            counts[bounded.nextInt(3)]++;
        }
        for (final int c : counts)
        {
            assertTrue(Math.abs(c - 10_000) < 500, Arrays.toString(counts));
        }
    }

    @Test
    void shouldKeyAugmentationOnSeedEpochAndSampleOnly()
    {
        final long a = AugmentationSeeds.seed(SEED, 4, 17);
        assertEquals(a, AugmentationSeeds.seed(SEED, 4, 17));
        assertNotEquals(a, AugmentationSeeds.seed(SEED, 5, 17));
        assertNotEquals(a, AugmentationSeeds.seed(SEED, 4, 18));
        assertNotEquals(a, AugmentationSeeds.seed(SEED + 1, 4, 17));
        assertNotEquals(AugmentationSeeds.seed(SEED, 4, 17), AugmentationSeeds.seed(SEED, 17, 4));
        assertEquals(AugmentationSeeds.random(SEED, 4, 17).nextLong(), new SplitMix64(a).nextLong());
    }
}
