package io.baton.trainer.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * How the flat gradient is cut into buckets for an all-reduce that overlaps backward: ranges [lo, hi) in the
 * order backward completes them (highest offsets first, since DL4J lays parameters out in topological order and
 * backpropagates in reverse). Each bucket starts at a ready point, an offset from which backward signals that every
 * slot is final, and holds at least {@code bucketFloats} floats unless it is the last one (which ends at 0).
 *
 * <p>The cuts depend only on the layout, the ready points and the bucket size, never on timing, so every rank
 * reduces the same ranges in the same order; this keeps the results bit-identical across ranks.
 *
 * <p>Thread-safe (immutable).
 */
public final class GradientBuckets
{
    /** One bucket: the floats [lo, hi) of the flat gradient. */
    public record Bucket(long lo, long hi)
    {
        public long floats()
        {
            return hi - lo;
        }
    }

    private final long length;
    private final List<Bucket> buckets;

    /**
     * @param length       floats in the flat gradient.
     * @param readyPoints  offsets in (0, length) from which backward reports the gradient final; others are ignored.
     * @param bucketFloats smallest bucket (but the last), at least 1.
     */
    public GradientBuckets(final long length, final List<Long> readyPoints, final long bucketFloats)
    {
        if (length < 1)
        {
            throw new IllegalArgumentException("gradient length must be >= 1, was " + length);
        }
        if (bucketFloats < 1)
        {
            throw new IllegalArgumentException("bucketFloats must be >= 1, was " + bucketFloats);
        }
        final TreeSet<Long> points = new TreeSet<>();
        for (final long p : readyPoints)
        {
            if (p > 0 && p < length)
            {
                points.add(p);
            }
        }
        final List<Bucket> out = new ArrayList<>();
        long hi = length;
        for (final long p : points.descendingSet())
        {
            if (hi - p >= bucketFloats)
            {
                out.add(new Bucket(p, hi));
                hi = p;
            }
        }
        out.add(new Bucket(0, hi));
        this.length = length;
        this.buckets = List.copyOf(out);
    }

    /** Floats in the flat gradient. */
    public long length()
    {
        return length;
    }

    /** Buckets in reduction order (descending offsets); they tile [0, length). */
    public List<Bucket> buckets()
    {
        return buckets;
    }

    @Override
    public String toString()
    {
        return buckets.size() + " bucket(s) over " + length + " floats: " + buckets;
    }
}
