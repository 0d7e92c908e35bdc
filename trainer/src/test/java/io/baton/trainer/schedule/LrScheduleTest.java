package io.baton.trainer.schedule;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LrScheduleTest
{
    private static final double EXACT = 1e-12;

    /** Goyal et al.: base 0.1 per 256, G = 8192, 5 warmup epochs from 0.1/32 x scaled, x0.1 at 30, 60, 80. */
    private static LrSchedule goyal()
    {
        return new LrSchedule(0.1, 256, 8192, 5, 1.0 / 32, DecayKind.STEP, new int[] {30, 60, 80}, 0.1, 90);
    }

    @Test
    void shouldScaleLinearlyAndWarmUpPerStep()
    {
        final LrSchedule s = goyal();
        final long spe = 156;
        final double scaled = 0.1 * 8192 / 256;
        assertEquals(3.2, s.scaledLr(), EXACT);
        assertEquals(780, s.warmupSteps(spe));
        assertEquals(scaled / 32, s.lr(0, spe), EXACT);
        final double start = scaled / 32;
        for (final long step : new long[] {1, 100, 389, 779})
        {
            assertEquals(start + (scaled - start) * step / 780.0, s.lr(step, spe), EXACT, "step " + step);
        }
        assertEquals(scaled, s.lr(780, spe), EXACT);
        assertTrue(s.lr(779, spe) < s.lr(780, spe));
    }

    @Test
    void shouldDecayByTheFactorAtEachBoundary()
    {
        final LrSchedule s = goyal();
        final long spe = 100;
        assertEquals(3.2, s.lr(2999, spe), EXACT);
        assertEquals(3.2 * 0.1, s.lr(3000, spe), EXACT);
        assertEquals(3.2 * 0.1 * 0.1, s.lr(6000, spe), EXACT);
        assertEquals(3.2 * 0.1 * 0.1 * 0.1, s.lr(8999, spe), EXACT);
    }

    @Test
    void shouldFollowTheHalfCosineAfterWarmup()
    {
        final LrSchedule s = new LrSchedule(0.2, 256, 512, 2, 0.0, DecayKind.COSINE, null, 1.0, 10);
        final long spe = 50;
        assertEquals(0.0, s.lr(0, spe), EXACT);
        assertEquals(0.4 * 50 / 100.0, s.lr(50, spe), EXACT);
        assertEquals(0.4, s.lr(100, spe), EXACT);
        for (final long step : new long[] {150, 300, 499})
        {
            final double expected = 0.4 * 0.5 * (1 + Math.cos(Math.PI * (step - 100) / 400.0));
            assertEquals(expected, s.lr(step, spe), EXACT, "step " + step);
        }
        assertEquals(0.2, s.lr(300, spe), EXACT);
    }

    @Test
    void shouldDescribeThePlanAtWarmupAndDecayPoints()
    {
        final List<LrSchedule.PlanPoint> plan = goyal().plan(100);
        assertEquals("warmup start", plan.get(0).label());
        assertEquals(0.1, plan.get(0).lr(), EXACT);
        assertEquals(500, plan.get(1).step());
        assertEquals(3.2, plan.get(1).lr(), EXACT);
        assertEquals(3000, plan.get(2).step());
        assertEquals(0.32, plan.get(2).lr(), EXACT);
        assertEquals(8000, plan.get(4).step());
        assertEquals(8999, plan.get(5).step());
        assertTrue(goyal().describe(100).contains("warmup end"));
    }

    @Test
    void shouldRejectDecayBeforeTheEndOfWarmup()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new LrSchedule(0.1, 256, 256, 5, 0.1, DecayKind.STEP, new int[] {3}, 0.1, 10));
        assertTrue(ex.getMessage().contains("decayEpochs=[3]"), ex.getMessage());
    }

    @Test
    void decayFractionsAreRoundedDownToWholeEpochsThatStayInsideTheRunAndAfterWarmup()
    {
        final List<Double> half = List.of(0.5, 0.8);
        assertEquals(List.of(5, 8), LrSchedule.decayEpochsAt(half, 10, 0));
        assertEquals(List.of(4, 7), LrSchedule.decayEpochsAt(half, 9, 0));
        assertEquals(List.of(1, 2), LrSchedule.decayEpochsAt(half, 3, 0));
        assertEquals(List.of(1), LrSchedule.decayEpochsAt(half, 2, 0));
        assertEquals(List.of(), LrSchedule.decayEpochsAt(half, 1, 0));
        assertEquals(List.of(6, 8), LrSchedule.decayEpochsAt(half, 10, 5.5));
        assertEquals(List.of(9), LrSchedule.decayEpochsAt(half, 10, 9));
        assertEquals(List.of(29, 58), LrSchedule.decayEpochsAt(List.of(0.29, 0.58), 100, 0));
        assertEquals(List.of(1, 2, 3), LrSchedule.decayEpochsAt(List.of(0.01, 0.02, 0.03), 10, 0));
        // always a valid schedule
        for (int epochs = 1; epochs <= 40; epochs++)
        {
            for (final double warmup : new double[] {0, 0.5, 1, 2.5, epochs - 0.5})
            {
                if (warmup >= epochs)
                {
                    continue; // refused by the configuration
                }
                final int[] points = LrSchedule.decayEpochsAt(half, epochs, warmup).stream()
                    .mapToInt(Integer::intValue).toArray();
                new LrSchedule(0.1, 256, 256, warmup, 0.1, DecayKind.STEP, points, 0.1, epochs);
                for (final int p : points)
                {
                    assertTrue(p > 0 && p < epochs && p >= warmup, epochs + " " + warmup + " " + p);
                }
            }
        }
    }
}
