package io.baton.coordinator.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses the ranges of {@code baton plan}: {@code 8..512} means the powers of two from 8 to 512 (both ends must be
 * powers of two), {@code 25,100,400} a list, {@code 64} a single value. Values must be positive.
 */
public final class ReplicaRange
{
    private ReplicaRange()
    {
    }

    /** Integer values (replica counts); a range must have power-of-two ends. */
    public static List<Integer> parseInts(final String option, final String text)
    {
        final List<Integer> out = new ArrayList<>();
        for (final double v : parse(option, text, true))
        {
            out.add((int)v);
        }
        return out;
    }

    /**
     * Values; {@code a..b} doubles from {@code a} while <= {@code b} (so {@code 25..400} is 25, 50, 100, 200, 400).
     *
     * @param option      the option name, for error messages.
     * @param text        the range text.
     * @param integersOnly whether values must be integers with power-of-two range ends.
     */
    public static List<Double> parse(final String option, final String text, final boolean integersOnly)
    {
        final String t = text.trim();
        final List<Double> out = new ArrayList<>();
        final int dots = t.indexOf("..");
        if (dots >= 0)
        {
            final double lo = number(option, t.substring(0, dots), integersOnly);
            final double hi = number(option, t.substring(dots + 2), integersOnly);
            if (hi < lo)
            {
                throw new IllegalArgumentException(option + " range must be low..high, was " + text);
            }
            if (integersOnly && (!powerOfTwo((long)lo) || !powerOfTwo((long)hi)))
            {
                throw new IllegalArgumentException(option + " range ends must be powers of two (the range steps by "
                    + "doubling), was " + text);
            }
            for (double v = lo; v <= hi * (1 + 1e-12); v *= 2)
            {
                out.add(v);
            }
            return out;
        }
        for (final String part : t.split(","))
        {
            out.add(number(option, part, integersOnly));
        }
        return out;
    }

    private static double number(final String option, final String text, final boolean integer)
    {
        final double v;
        try
        {
            v = integer ? Long.parseLong(text.trim()) : Double.parseDouble(text.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(option + ": not a " + (integer ? "whole " : "") + "number: '"
                + text.trim() + "'", ex);
        }
        if (!(v > 0) || (integer && v > Integer.MAX_VALUE))
        {
            throw new IllegalArgumentException(option + " values must be > 0" + (integer ? " and fit an int" : "")
                + ", was " + text.trim());
        }
        return v;
    }

    private static boolean powerOfTwo(final long v)
    {
        return v > 0 && (v & (v - 1)) == 0;
    }
}
