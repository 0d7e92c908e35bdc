package io.baton.trainer.bench;

import io.baton.trainer.backend.ReplicaParallel;

/**
 * Benchmark (not a test): what one {@link ReplicaParallel#forRange} split over 2 threads costs beyond its work. A
 * memory-light pass over {@code floats} floats (a sum, so the work is the same on either side) runs split in 2 and
 * inline, alternately, {@code calls} times, with {@code gapUs} microseconds of busy work between calls: 0 as for
 * back-to-back kernels, a few hundred as when a convolution runs between two of Baton's kernels and the pool's
 * worker has parked meanwhile. Prints microseconds per call for each round. Args: [floats calls gapUs rounds]
 * (default 65536 2000 0 5). Needs only the trainer's classes: {@code java -cp trainer/target/classes:trainer/target/test-classes
 * io.baton.trainer.bench.ReplicaParallelBench}.
 */
public final class ReplicaParallelBench
{
    /** Keeps the sums alive. */
    private static volatile float sink;

    private ReplicaParallelBench()
    {
    }

    public static void main(final String[] args)
    {
        final int floats = args.length > 0 ? Integer.parseInt(args[0]) : 65536;
        final int calls = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        final long gapNs = (args.length > 2 ? Long.parseLong(args[2]) : 0) * 1000;
        final int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        final float[] data = new float[floats];
        final int half = floats / 2;
        for (int round = 1; round <= rounds; round++)
        {
            final long splitStart = System.nanoTime();
            for (int c = 0; c < calls; c++)
            {
                ReplicaParallel.forRange(2, half, 2, (from, to) -> sink = sum(data, from * half, to * half));
                busy(gapNs);
            }
            final long inlineStart = System.nanoTime();
            for (int c = 0; c < calls; c++)
            {
                sink = sum(data, 0, floats);
                busy(gapNs);
            }
            final long end = System.nanoTime();
            System.out.printf("round %d: floats=%d gap_us=%d split_us_per_call=%.1f inline_us_per_call=%.1f%n", round,
                floats, gapNs / 1000, (inlineStart - splitStart) / 1e3 / calls, (end - inlineStart) / 1e3 / calls);
        }
    }

    private static float sum(final float[] data, final int from, final int to)
    {
        float s = 0;
        for (int i = from; i < to; i++)
        {
            s += data[i];
        }
        return s;
    }

    private static void busy(final long ns)
    {
        final long end = System.nanoTime() + ns;
        while (System.nanoTime() < end)
        {
            Thread.onSpinWait();
        }
    }
}
