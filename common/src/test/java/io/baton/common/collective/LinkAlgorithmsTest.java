package io.baton.common.collective;

import static io.baton.common.collective.CollectiveTestSupport.TEST_KEY;
import static io.baton.common.collective.CollectiveTestSupport.digest;
import static io.baton.common.collective.CollectiveTestSupport.input;
import static io.baton.common.collective.CollectiveTestSupport.testSettings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ring and the one-hop all-to-all against exact references, over both links: the in-memory one (threads, no
 * Aeron) and Aeron (threads sharing the embedded driver: IPC). The same assertions on both: the algorithms do not
 * depend on the transport.
 */
class LinkAlgorithmsTest
{
    private static final long SEED = 7;
    private static final int CHUNK_BYTES = 1024;

    /** Where the ranks' communicators run. */
    enum Medium
    {
        MEMORY, AERON
    }

    static CollectiveSettings settings()
    {
        return testSettings().chunkBytes(CHUNK_BYTES).build();
    }

    /** One communicator per rank, each on its own thread, over {@code medium}; closes them all. */
    static <T> List<T> runRanks(final Medium medium, final CollectiveSettings settings, final int worldSize,
        final Function<Communicator, T> body) throws Exception
    {
        if (medium == Medium.AERON)
        {
            return CollectiveTestSupport.runRanks(settings, worldSize, "job-link", 1, body::apply);
        }
        final MemoryLink.Network network = new MemoryLink.Network(worldSize, 16);
        final ExecutorService pool = Executors.newFixedThreadPool(worldSize);
        try
        {
            final List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < worldSize; r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (LinkCommunicator comm = new LinkCommunicator(settings, new MemoryLink(network, rank), rank,
                        worldSize, "job-link", 1, TEST_KEY))
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

    /** The ring's result, exactly: segment c summed in float as x_c + x_(c+1) + ... + x_(c-1), then x 1/N. */
    static float[] ringReference(final long seed, final int worldSize, final int count, final boolean avg)
    {
        final float[][] x = new float[worldSize][];
        for (int r = 0; r < worldSize; r++)
        {
            x[r] = input(seed, r, count);
        }
        final float[] out = new float[count];
        final int quotient = count / worldSize;
        final int remainder = count % worldSize;
        for (int c = 0; c < worldSize; c++)
        {
            final int start = c * quotient + Math.min(c, remainder);
            final int length = quotient + (c < remainder ? 1 : 0);
            for (int i = start; i < start + length; i++)
            {
                float acc = x[c][i];
                for (int k = 1; k < worldSize; k++)
                {
                    acc += x[(c + k) % worldSize][i];
                }
                out[i] = avg ? acc * (1.0f / worldSize) : acc;
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} worldSize={1} count={2} {3}")
    @CsvSource({
        "MEMORY, 2, 100003, SUM", "MEMORY, 3, 4099, AVG", "MEMORY, 4, 100003, SUM", "MEMORY, 3, 513, SUM",
        "AERON, 2, 100003, SUM", "AERON, 3, 4099, AVG", "AERON, 4, 100003, SUM"})
    void ringEqualsTheFixedOrderFloatSumBitForBitOnEveryRank(final Medium medium, final int worldSize,
        final int count, final ReduceOp op) throws Exception
    {
        final float[] expected = ringReference(SEED + count, worldSize, count, op == ReduceOp.AVG);
        final List<float[]> results = runRanks(medium, settings(), worldSize, (comm) ->
        {
            final float[] data = input(SEED + count, comm.rank(), count);
            comm.allReduce(data, op);
            return data;
        });
        for (int r = 0; r < worldSize; r++)
        {
            assertArrayEquals(expected, results.get(r), "rank " + r + " over " + medium);
            assertEquals(digest(expected), digest(results.get(r)), "rank " + r + " bits over " + medium);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Medium.class)
    void allToAllSumsInRankOrderInDoubleAndGathersEveryPayload(final Medium medium) throws Exception
    {
        final int worldSize = 3;
        final int count = 100; // 400 bytes: under the 2 KB small threshold, so the one-hop all-to-all
        final List<Object[]> results = runRanks(medium, settings(), worldSize, (comm) ->
        {
            final float[] data = input(SEED, comm.rank(), count);
            comm.allReduce(data, ReduceOp.AVG);
            final double[] small = {comm.rank() + 0.25, 1e-17 * comm.rank()};
            comm.allReduceSmall(small, ReduceOp.SUM);
            final byte[][] gathered = comm.allGather(new byte[] {(byte)comm.rank(), 42});
            final byte[] root = comm.broadcastBytes(new byte[] {(byte)(10 + comm.rank())}, 1);
            comm.barrier();
            return new Object[] {data, small, gathered, root};
        });
        final float[] expected = new float[count];
        for (int i = 0; i < count; i++)
        {
            double sum = 0;
            for (int r = 0; r < worldSize; r++)
            {
                sum += input(SEED, r, count)[i];
            }
            expected[i] = (float)sum * (1.0f / worldSize);
        }
        for (int r = 0; r < worldSize; r++)
        {
            assertArrayEquals(expected, (float[])results.get(r)[0], "rank " + r);
            assertArrayEquals(new double[] {0.25 + 1.25 + 2.25, 1e-17 + 2e-17}, (double[])results.get(r)[1],
                "rank " + r);
            final byte[][] gathered = (byte[][])results.get(r)[2];
            for (int from = 0; from < worldSize; from++)
            {
                assertArrayEquals(new byte[] {(byte)from, 42}, gathered[from], "rank " + r + " from " + from);
            }
            assertArrayEquals(new byte[] {11}, (byte[])results.get(r)[3], "rank " + r);
        }
    }

    @ParameterizedTest(name = "{0} count={1}")
    @CsvSource({"MEMORY, 50000", "MEMORY, 100", "AERON, 50000", "AERON, 100"})
    void aRankThatStopsFailsTheOthersWithinTheTimeoutNamingOperationSequenceAndMissingRank(final Medium medium,
        final int count) throws Exception
    {
        final CollectiveSettings settings = settings();
        final int worldSize = 3;
        final List<Object> results = runRanks(medium, settings, worldSize, (comm) ->
        {
            final float[] data = input(SEED, comm.rank(), count);
            comm.allReduce(data, ReduceOp.SUM); // sequence 0 completes on every rank
            if (comm.rank() == 2)
            {
                return null; // rank 2 stops: its communicator closes, it never joins sequence 1
            }
            final long startNs = System.nanoTime();
            try
            {
                comm.allReduce(data, ReduceOp.SUM);
                return "rank " + comm.rank() + " completed an all-reduce without rank 2";
            }
            catch (final CollectiveException ex)
            {
                return new Object[] {ex, System.nanoTime() - startNs};
            }
        });
        for (int r = 0; r < 2; r++)
        {
            assertNotNull(results.get(r));
            assertTrue(results.get(r) instanceof Object[], String.valueOf(results.get(r)));
            final CollectiveException ex = (CollectiveException)((Object[])results.get(r))[0];
            final long tookNs = (Long)((Object[])results.get(r))[1];
            assertEquals("allReduce", ex.operation(), ex.getMessage());
            assertEquals(1, ex.sequence(), ex.getMessage());
            assertEquals(List.of(2), ex.missingRanks(), ex.getMessage());
            assertTrue(ex.getMessage().contains("allReduce seq=1") && ex.getMessage().contains("ranks [2]"),
                ex.getMessage());
            assertTrue(tookNs >= settings.operationDeadlineNs() &&
                tookNs < settings.operationDeadlineNs() + TimeUnit.SECONDS.toNanos(2), "took " + tookNs + " ns");
        }
    }
}
