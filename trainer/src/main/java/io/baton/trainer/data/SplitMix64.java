package io.baton.trainer.data;

/**
 * SplitMix64 (Steele, Lea and Flood 2014; the generator of {@code java.util.SplittableRandom} and of xoshiro's seeding):
 * state += 0x9E3779B97F4A7C15, output = mix(state). Written out here so that Baton's data order and augmentation
 * draws are defined by this file alone: identical on every JVM, platform and Java version (SplittableRandom's
 * bounded draws are not part of its specification).
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class SplitMix64
{
    /** The golden-ratio increment of the state. */
    public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    public SplitMix64(final long seed)
    {
        this.state = seed;
    }

    /** The next 64 random bits. */
    public long nextLong()
    {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** Uniform in [0, bound), unbiased (rejection of the top partial range). */
    public int nextInt(final int bound)
    {
        if (bound <= 0)
        {
            throw new IllegalArgumentException("bound must be > 0, bound=" + bound);
        }
        while (true)
        {
            final long bits = nextLong() >>> 1;
            final long value = bits % bound;
            if (bits - value + (bound - 1) >= 0)
            {
                return (int)value;
            }
        }
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble()
    {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** The SplitMix64 finaliser (Stafford's variant 13): a bijective 64-bit mixer. */
    public static long mix(final long z0)
    {
        long z = z0;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A seed derived from a parent seed and one more key, e.g. (job seed, epoch). */
    public static long derive(final long parent, final long key)
    {
        return mix(mix(parent) + GOLDEN_GAMMA * (key + 1));
    }
}
