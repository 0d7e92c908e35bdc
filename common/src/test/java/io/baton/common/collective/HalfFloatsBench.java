package io.baton.common.collective;

/**
 * Throughput of the compressed ring's conversions ({@link HalfFloats}) on one chunk, repeated for one 241 MB gradient's
 * worth of values (not a test). Usage: {@code java -cp common/target/test-classes:common/target/classes
 * io.baton.common.collective.HalfFloatsBench}.
 */
public final class HalfFloatsBench
{
    private HalfFloatsBench()
    {
    }

    public static void main(final String[] args)
    {
        final int n = 32_736; // one compressed ring chunk of the default 65440-byte chunk (x2 values)
        final float[] src = new float[n];
        final java.util.SplittableRandom random = new java.util.SplittableRandom(1);
        for (int i = 0; i < n; i++)
        {
            src[i] = (float)(random.nextDouble() * 2 - 1) * 1e-2f;
        }
        final short[] wire = new short[n];
        final float[] back = new float[n];
        final int reps = 60_192_808 / n; // one 241 MB gradient's worth
        for (final CollectiveSettings.Compression c : new CollectiveSettings.Compression[] {
            CollectiveSettings.Compression.FP16, CollectiveSettings.Compression.BF16})
        {
            for (int round = 0; round < 4; round++)
            {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++)
                {
                    HalfFloats.narrow(c, src, wire, n);
                }
                long t1 = System.nanoTime();
                for (int r = 0; r < reps; r++)
                {
                    HalfFloats.widen(c, wire, back, n);
                }
                long t2 = System.nanoTime();
                System.out.printf("%s round %d: narrow %.2f ns/value (%.0f ms per 60.2M), widen %.2f ns/value " +
                    "(%.0f ms)%n", c, round, (t1 - t0) / (double)reps / n, (t1 - t0) / 1e6, (t2 - t1) / (double)reps / n,
                    (t2 - t1) / 1e6);
            }
        }
        System.out.println(back[7]);
    }
}
