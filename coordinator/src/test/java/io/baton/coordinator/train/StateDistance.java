package io.baton.coordinator.train;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The largest per-element relative difference between two float states (a checkpoint part of two runs) and where it
 * is: {@code |a - b| / max(|a|, |b|, s)}, where {@code s} is a given fraction of the root mean square of the first
 * state, so an element that is practically zero in both (a bias that barely moved, a gradient component crossing
 * zero) is measured against the state's typical size instead of against itself.
 *
 * @param value    the largest difference (0 for bit-identical states, infinite when one holds a NaN).
 * @param at       its element, -1 for bit-identical states.
 * @param expected the first state's value there.
 * @param actual   the second state's value there.
 */
record StateDistance(double value, int at, float expected, float actual)
{
    static StateDistance between(final float[] expected, final float[] actual, final double scaleFraction)
    {
        assertEquals(expected.length, actual.length, "state lengths");
        double sumSquares = 0;
        for (final float v : expected)
        {
            sumSquares += (double) v * v;
        }
        final double scale = scaleFraction * Math.sqrt(sumSquares / Math.max(1, expected.length));
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++)
        {
            final double a = expected[i];
            final double b = actual[i];
            final double d = a == b ? 0 : Math.abs(a - b) / Math.max(scale, Math.max(Math.abs(a), Math.abs(b)));
            if (Double.isNaN(d))
            {
                return new StateDistance(Double.POSITIVE_INFINITY, i, expected[i], actual[i]);
            }
            if (d > worst)
            {
                worst = d;
                at = i;
            }
        }
        return new StateDistance(worst, at, at < 0 ? 0 : expected[at], at < 0 ? 0 : actual[at]);
    }

    @Override
    public String toString()
    {
        return at < 0 ? "0 (bit-identical)" : String.format(Locale.ROOT, "%.3g at element %d (%s vs %s)", value, at,
            expected, actual);
    }
}
