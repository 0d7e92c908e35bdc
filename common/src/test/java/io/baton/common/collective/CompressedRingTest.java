package io.baton.common.collective;

import static io.baton.common.collective.CollectiveTestSupport.TEST_KEY;
import static io.baton.common.collective.CollectiveTestSupport.compareToDoubleSum;
import static io.baton.common.collective.CollectiveTestSupport.digest;
import static io.baton.common.collective.CollectiveTestSupport.input;
import static io.baton.common.collective.CollectiveTestSupport.testSettings;
import static io.baton.common.collective.CollectiveTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;

import io.baton.common.collective.CollectiveSettings.Compression;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** collective.compression: the ring over fp16/bf16 values, over the in-memory link and over Aeron. */
class CompressedRingTest
{
    private static final long SEED = 11;
    private static final int COUNT = 100_003;

    private static CollectiveSettings settings(final Compression compression)
    {
        return testSettings().chunkBytes(1024).compression(compression).build();
    }

    /** Ranks as threads over one in-memory network, rank r with {@code settings.apply(r)}. */
    private static <T> List<T> runMemory(final MemoryLink.Network network, final int worldSize,
        final IntFunction<CollectiveSettings> settings, final Function<Communicator, T> body) throws Exception
    {
        final ExecutorService pool = Executors.newFixedThreadPool(worldSize);
        try
        {
            final List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < worldSize; r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (LinkCommunicator comm = new LinkCommunicator(settings.apply(rank),
                        new MemoryLink(network, rank), rank, worldSize, "job-half", 1, TEST_KEY))
                    {
                        return body.apply(comm);
                    }
                }));
            }
            final List<T> results = new ArrayList<>();
            for (final Future<T> future : futures)
            {
                results.add(future.get(2, TimeUnit.MINUTES));
            }
            return results;
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static List<float[]> reduce(final LinkAlgorithmsTest.Medium medium, final CollectiveSettings settings,
        final MemoryLink.Network network, final int worldSize, final ReduceOp op) throws Exception
    {
        final Function<Communicator, float[]> body = (comm) ->
        {
            final float[] data = input(SEED, comm.rank(), COUNT);
            comm.allReduce(data, op);
            return data;
        };
        return medium == LinkAlgorithmsTest.Medium.AERON ?
            LinkAlgorithmsTest.runRanks(medium, settings, worldSize, body) :
            runMemory(network, worldSize, (r) -> settings, body);
    }

    /** Unit roundoff of the format: half the distance between 1 and the next value. */
    private static double unitRoundoff(final Compression compression)
    {
        return compression == Compression.BF16 ? 0x1p-8 : 0x1p-11;
    }

    @ParameterizedTest(name = "{0} {1} worldSize={2} {3}")
    @CsvSource({
        "MEMORY, FP16, 2, SUM", "MEMORY, FP16, 3, AVG", "MEMORY, FP16, 4, SUM",
        "MEMORY, BF16, 2, AVG", "MEMORY, BF16, 3, SUM", "MEMORY, BF16, 4, SUM",
        "AERON, FP16, 3, SUM", "AERON, BF16, 2, AVG"})
    void compressedRingIsBitIdenticalOnEveryRankAndWithinTheFormatsRoundingOfTheExactSum(
        final LinkAlgorithmsTest.Medium medium, final Compression compression, final int worldSize,
        final ReduceOp op) throws Exception
    {
        final List<float[]> results = reduce(medium, settings(compression), new MemoryLink.Network(worldSize, 16),
            worldSize, op);
        for (int r = 1; r < worldSize; r++)
        {
            assertEquals(digest(results.get(0)), digest(results.get(r)), "rank " + r + " differs from rank 0 (bits)");
        }
        // Each segment's partial sum is narrowed once per hop (N-1 times) and the finished sum once more: at most
        // N roundings of a value whose magnitude is at most the sum of the magnitudes, plus float's own rounding and
        // fp16's subnormal spacing. Negative control: float precision alone must NOT hold (values really travel
        // narrowed), so the bound is not vacuous.
        final boolean avg = op == ReduceOp.AVG;
        final double u = unitRoundoff(compression);
        final float[] result = results.get(0);
        double worstRatio = 0;
        for (int i = 0; i < COUNT; i++)
        {
            double sum = 0;
            double magnitude = 0;
            for (int r = 0; r < worldSize; r++)
            {
                sum += value(SEED, r, i);
                magnitude += Math.abs(value(SEED, r, i));
            }
            final double expected = avg ? sum / worldSize : sum;
            final double scale = avg ? magnitude / worldSize : magnitude;
            final double tolerance = (worldSize + 1) * u * scale + worldSize * 0x1p-24;
            final double error = Math.abs(result[i] - expected);
            assertTrue(error <= tolerance, "index " + i + ": got " + result[i] + ", expected " + expected +
                " (tolerance " + tolerance + ")");
            worstRatio = Math.max(worstRatio, error / tolerance);
        }
        assertNotNull(compareToDoubleSum(result, SEED, worldSize, avg),
            "a compressed ring matched the exact sum to float precision: were the values narrowed at all?");
        assertTrue(worstRatio > 0.01, "worst error only " + worstRatio + " of the bound");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Compression.class, names = {"FP16", "BF16"})
    void compressedRingSendsHalfTheBytesOfTheUncompressedOne(final Compression compression) throws Exception
    {
        final MemoryLink.Network plain = new MemoryLink.Network(2, 16);
        reduce(LinkAlgorithmsTest.Medium.MEMORY, settings(Compression.NONE), plain, 2, ReduceOp.SUM);
        final MemoryLink.Network narrow = new MemoryLink.Network(2, 16);
        reduce(LinkAlgorithmsTest.Medium.MEMORY, settings(compression), narrow, 2, ReduceOp.SUM);
        final double ratio = (double)narrow.sentBytes() / plain.sentBytes();
        assertTrue(ratio > 0.45 && ratio < 0.55, "compressed/uncompressed bytes = " + ratio + " (" +
            narrow.sentBytes() + " / " + plain.sentBytes() + ")");
    }

    @ParameterizedTest(name = "rank 0 {0}, rank 1 {1}")
    @CsvSource({"FP16, NONE", "FP16, BF16", "NONE, BF16"})
    void ranksWithDifferentCompressionFailNamingTheKeyInsteadOfMixingFormats(final Compression rank0,
        final Compression rank1) throws Exception
    {
        final List<Object> results = runMemory(new MemoryLink.Network(2, 16), 2,
            (r) -> settings(r == 0 ? rank0 : rank1), (comm) ->
            {
                try
                {
                    comm.allReduce(input(SEED, comm.rank(), COUNT), ReduceOp.SUM);
                    return "rank " + comm.rank() + " completed";
                }
                catch (final CollectiveException ex)
                {
                    return ex;
                }
            });
        boolean named = false;
        for (final Object result : results)
        {
            assertTrue(result instanceof CollectiveException, String.valueOf(result));
            final String message = ((CollectiveException)result).getMessage();
            named |= message.contains("collective.compression=" + rank0.name().toLowerCase()) &&
                message.contains("collective.compression=" + rank1.name().toLowerCase());
        }
        assertTrue(named, String.valueOf(results));
    }

    @Test
    void halfFloatsRoundToNearestEvenAndWideningThenNarrowingGivesTheSameBits()
    {
        for (int bits = 0; bits < 0x10000; bits++)
        {
            final short h = (short)bits;
            final float f = HalfFloats.fromHalf(h);
            if (!Float.isNaN(f))
            {
                assertEquals(h, HalfFloats.toHalf(f), "fp16 " + Integer.toHexString(bits));
            }
            final float b = HalfFloats.fromBfloat16(h);
            if (!Float.isNaN(b))
            {
                assertEquals(h, HalfFloats.toBfloat16(b), "bf16 " + Integer.toHexString(bits));
            }
        }
        final SplittableRandom random = new SplittableRandom(5);
        for (int n = 0; n < 200_000; n++)
        {
            final float f = Float.intBitsToFloat(random.nextInt());
            if (Float.isNaN(f))
            {
                continue;
            }
            assertNull(nearest(f, HalfFloats.toHalf(f), true), "fp16 of " + f);
            assertNull(nearest(f, HalfFloats.toBfloat16(f), false), "bf16 of " + f);
        }
        assertEquals(65504f, HalfFloats.fromHalf(HalfFloats.toHalf(65519f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromHalf(HalfFloats.toHalf(65520f)));
        assertEquals(0x1p-24f, HalfFloats.fromHalf(HalfFloats.toHalf(0x1.8p-25f)));
        assertEquals(0f, HalfFloats.fromHalf(HalfFloats.toHalf(0x1p-25f)));
        assertTrue(Float.isNaN(HalfFloats.fromHalf(HalfFloats.toHalf(Float.NaN))));
        assertTrue(Float.isNaN(HalfFloats.fromBfloat16(HalfFloats.toBfloat16(Float.NaN))));
    }

    /** Null if {@code h} is a nearest value to {@code f} (and the even one on a tie), else why not. */
    private static String nearest(final float f, final short h, final boolean fp16)
    {
        final double got = fp16 ? HalfFloats.fromHalf(h) : HalfFloats.fromBfloat16(h);
        final double max = fp16 ? 65504 : HalfFloats.fromBfloat16((short)0x7f7f);
        if (Double.isInfinite(got))
        {
            // infinite only from at least halfway past the largest finite value
            final double next = fp16 ? 65536 : 0x1p128;
            return Math.abs(f) >= (max + next) / 2 ? null : "infinite for " + f;
        }
        for (final int step : new int[] {-1, 1})
        {
            final short other = (short)(h + step);
            if ((other & 0x7fff) == 0x7fff || (h & 0x7fff) == 0 && step < 0)
            {
                continue;
            }
            final double alternative = fp16 ? HalfFloats.fromHalf(other) : HalfFloats.fromBfloat16(other);
            if (Double.isNaN(alternative) || Double.isInfinite(alternative))
            {
                continue;
            }
            final double mine = Math.abs(f - got);
            final double theirs = Math.abs(f - alternative);
            if (theirs < mine || theirs == mine && (h & 1) != 0)
            {
                return "got " + got + " but " + alternative + " is nearer (or even) for " + f;
            }
        }
        return null;
    }
}
