package io.baton.common.collective;

import static io.baton.common.collective.CollectiveTestSupport.TEST_KEY;
import static io.baton.common.collective.CollectiveTestSupport.digest;
import static io.baton.common.collective.CollectiveTestSupport.freeUdpPorts;
import static io.baton.common.collective.CollectiveTestSupport.input;
import static io.baton.common.collective.CollectiveTestSupport.localEndpoints;
import static io.baton.common.collective.CollectiveTestSupport.testSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Only holders of the stage key join: a stranger who knows the job, generation and ports but not the key is refused and
 * counted and changes no result; a handshake captured in an earlier stage or generation, or replayed after connect, is
 * refused and counted; ranks given different keys fail at connect naming each other. Ranks are threads of this JVM on
 * the embedded driver; the stranger is a second Aeron client on the same driver, publishing to the ranks' UDP endpoints
 * or IPC streams ({@link AeronStrangerProcessTest} runs it as a process of its own).
 */
class AeronAuthenticationTest
{
    private static final String JOB = "job-auth";
    private static final long GENERATION = 3;
    private static final int[] SIZES = {1_000_003, 256, 20_000};

    @AfterEach
    void noDriverLeftBehind()
    {
        CollectiveTestSupport.assertNoEmbeddedDriverLeft();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = CollectiveSettings.Transport.class, names = {"UDP", "IPC"})
    void strangerWithoutTheKeyIsRefusedCountedAndChangesNoBit(final CollectiveSettings.Transport transport)
        throws Exception
    {
        final CollectiveSettings settings = testSettings().transport(transport).chunkBytes(16 * 1024).build();
        final List<Outcome> alone = reduceWithStranger(settings, false);
        final List<Outcome> withStranger = reduceWithStranger(settings, true);
        for (int r = 0; r < alone.size(); r++)
        {
            assertEquals(alone.get(0).digests, alone.get(r).digests, "ranks differ without the stranger");
            assertEquals(alone.get(r).digests, withStranger.get(r).digests,
                "rank " + r + ": the stranger changed the result");
            assertEquals(0, alone.get(r).rejected, "nothing refused without a stranger");
            assertTrue(withStranger.get(r).rejected > 0, "rank " + r + " counted no refused message: " +
                withStranger.get(r).rejected);
        }
    }

    @Test
    void handshakeCapturedInAnEarlierStageIsRefused() throws Exception
    {
        final CollectiveSettings settings = testSettings().transport(CollectiveSettings.Transport.UDP)
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(2)).build();
        final byte[] captured = captureHello(settings, StageKey.random());
        assertEquals(WireFormat.TYPE_HELLO, new UnsafeBuffer(captured).getInt(WireFormat.TYPE_OFFSET));

        // the next stage: same job and generation, a new key; the capture is replayed to its rank 1
        final Replayed replayed = underReplay(settings, GENERATION, StageKey.random(), List.of(captured),
            (comm) -> comm.rejectedMessages() > 0);
        assertTrue(replayed.rejected > 0, "rank 1 did not refuse the replayed handshake");
    }

    @Test
    void handshakeReplayedInTheNextGenerationOrAfterConnectIsRefusedAndCounted() throws Exception
    {
        final CollectiveSettings settings = testSettings().transport(CollectiveSettings.Transport.UDP)
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(2)).build();
        // rank 0's genuine Hello of generation g (its key and nonce), as an eavesdropper captured it
        final byte[] captured = captureHello(settings, StageKey.random());
        // the same bytes with the header's generation raised to g + 1, past the generation check: the tag breaks
        final byte[] raised = captured.clone();
        new UnsafeBuffer(raised).putLong(WireFormat.GENERATION_OFFSET, GENERATION + 1);

        final Replayed nextGeneration = underReplay(settings, GENERATION + 1, StageKey.random(),
            List.of(captured, raised), (comm) -> comm.droppedStaleMessages() > 0 && comm.rejectedMessages() > 0);
        assertTrue(nextGeneration.stale > 0, "the capture of generation " + GENERATION + " was not dropped as older");
        assertTrue(nextGeneration.rejected > 0, "the capture raised to generation " + (GENERATION + 1) + " was not " +
            "refused");

        // the strongest replay: a Hello of rank 0 under this very stage's key and generation (what a capture of this
        // stage's handshake is), replayed on the replayer's own session; rank 1 bound rank 0's session at connect
        final StageKey key = StageKey.random();
        final byte[] nonce = new byte[16];
        new java.security.SecureRandom().nextBytes(nonce);
        final byte[] sameStage = Stranger.hello(settings, key, JOB, GENERATION + 2, 0, 1, 2, nonce);
        final Replayed afterConnect = underReplay(settings, GENERATION + 2, key, List.of(sameStage),
            (comm) -> comm.rejectedMessages() > 0);
        assertTrue(afterConnect.rejected > 0, "rank 1 did not refuse a handshake of its own stage on a stranger's " +
            "session");
    }

    @Test
    void ranksGivenDifferentKeysFailAtConnectNamingTheRanks() throws Exception
    {
        final long connectMs = 2000;
        final CollectiveSettings settings = testSettings().transport(CollectiveSettings.Transport.UDP)
            .connectDeadlineNs(TimeUnit.MILLISECONDS.toNanos(connectMs)).build();
        final List<PeerEndpoint> peers = localEndpoints(settings, freeUdpPorts(2));
        final StageKey[] keys = {StageKey.random(), StageKey.random()};
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final List<Future<CollectiveException>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++)
            {
                final int rank = r;
                ranks.add(pool.submit(() ->
                {
                    final long startNs = System.nanoTime();
                    try (AeronCommunicator ignored = new AeronCommunicator(settings, rank, peers, JOB, GENERATION,
                        keys[rank]))
                    {
                        return null;
                    }
                    catch (final CollectiveException ex)
                    {
                        final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
                        assertTrue(elapsedMs < connectMs + 1500, "failed after " + elapsedMs + " ms");
                        return ex;
                    }
                }));
            }
            for (int r = 0; r < 2; r++)
            {
                final CollectiveException ex = ranks.get(r).get(30, TimeUnit.SECONDS);
                assertNotNull(ex, "rank " + r + " connected with another rank's key");
                final int other = 1 - r;
                assertEquals(List.of(other), ex.missingRanks());
                assertTrue(ex.getMessage().contains("handshakes claiming ranks [" + other + "] did not verify"),
                    ex.getMessage());
                assertTrue(ex.getMessage().contains(keys[r].fingerprint()) &&
                    ex.getMessage().contains(keys[other].fingerprint()), ex.getMessage());
            }
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static final class Outcome
    {
        final List<Long> digests;
        final long rejected;

        Outcome(final List<Long> digests, final long rejected)
        {
            this.digests = digests;
            this.rejected = rejected;
        }
    }

    /**
     * Two ranks all-reduce {@link #SIZES} (ring and small path). With a stranger, they first wait (barriers) until it
     * has published for a while, and it keeps publishing until they are done.
     */
    private static List<Outcome> reduceWithStranger(final CollectiveSettings settings, final boolean stranger)
        throws Exception
    {
        final int worldSize = 2;
        final List<PeerEndpoint> peers = localEndpoints(settings, freeUdpPorts(worldSize));
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong published = new AtomicLong();
        final AtomicReference<Throwable> strangerError = new AtomicReference<>();
        final ExecutorService pool = Executors.newFixedThreadPool(worldSize + 1);
        final String dir = EmbeddedDriver.acquire(settings);
        try
        {
            final Future<?> forger = stranger ? pool.submit(() ->
            {
                try
                {
                    new Stranger(settings, peers, dir, JOB, GENERATION).publishUntil(stop, published);
                }
                catch (final Throwable ex)
                {
                    strangerError.set(ex);
                }
            }) : null;
            final List<Future<Outcome>> futures = new ArrayList<>();
            for (int r = 0; r < worldSize; r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (AeronCommunicator comm = new AeronCommunicator(settings, rank, peers, JOB, GENERATION,
                        TEST_KEY))
                    {
                        final long endMs = System.currentTimeMillis() + 10_000;
                        boolean more = stranger;
                        while (more)
                        {
                            comm.barrier();
                            final boolean wantMore = published.get() < 2000 && System.currentTimeMillis() < endMs;
                            more = comm.broadcastBytes(new byte[] {(byte)(wantMore ? 1 : 0)}, 0)[0] == 1;
                        }
                        final List<Long> digests = new ArrayList<>();
                        for (int round = 0; round < 3; round++)
                        {
                            for (final int size : SIZES)
                            {
                                final float[] data = input(size + round, rank, size);
                                comm.allReduce(data, ReduceOp.SUM);
                                digests.add(digest(data));
                            }
                        }
                        comm.barrier();
                        return new Outcome(digests, comm.rejectedMessages());
                    }
                }));
            }
            final List<Outcome> outcomes = new ArrayList<>();
            for (final Future<Outcome> future : futures)
            {
                outcomes.add(future.get(2, TimeUnit.MINUTES));
            }
            stop.set(true);
            if (forger != null)
            {
                forger.get(30, TimeUnit.SECONDS);
                assertNull(strangerError.get(), () -> "stranger failed: " + strangerError.get());
                assertTrue(published.get() > 0, "the stranger published nothing");
            }
            return outcomes;
        }
        finally
        {
            stop.set(true);
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            EmbeddedDriver.release();
        }
    }

    /** Rank 1's counts after {@link #underReplay}. */
    private static final class Replayed
    {
        final long rejected;
        final long stale;

        Replayed(final long rejected, final long stale)
        {
            this.rejected = rejected;
            this.stale = stale;
        }
    }

    /**
     * Two ranks of {@link #JOB} in {@code generation} with {@code key} connect over UDP and exchange barriers while a
     * replayer (an Aeron client of their driver) publishes {@code messages} round robin to rank 1's endpoint, until it
     * has published 20 and {@code enough} holds for rank 1, or 10 s passed; returns rank 1's counts.
     */
    private static Replayed underReplay(final CollectiveSettings settings, final long generation, final StageKey key,
        final List<byte[]> messages, final java.util.function.Predicate<AeronCommunicator> enough) throws Exception
    {
        final List<PeerEndpoint> peers = localEndpoints(settings, freeUdpPorts(2));
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong replayed = new AtomicLong();
        final ExecutorService pool = Executors.newFixedThreadPool(3);
        try
        {
            final String dir = EmbeddedDriver.acquire(settings);
            final Future<?> replayer = pool.submit(() ->
            {
                try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
                    ExclusivePublication publication = aeron.addExclusivePublication(
                        "aeron:udp?endpoint=127.0.0.1:" + peers.get(1).port(), settings.streamId()))
                {
                    long next = 0;
                    while (!stop.get())
                    {
                        final byte[] message = messages.get((int)(next % messages.size()));
                        if (publication.offer(new UnsafeBuffer(message), 0, message.length) > 0)
                        {
                            replayed.incrementAndGet();
                            next++;
                        }
                        Thread.sleep(2);
                    }
                }
                return null;
            });
            final List<Future<Replayed>> ranks = new ArrayList<>();
            for (int r = 0; r < 2; r++)
            {
                final int rank = r;
                ranks.add(pool.submit(() ->
                {
                    try (AeronCommunicator comm = new AeronCommunicator(settings, rank, peers, JOB, generation, key))
                    {
                        final long endMs = System.currentTimeMillis() + 10_000;
                        boolean more = true;
                        while (more)
                        {
                            comm.barrier();
                            final boolean wantMore = (replayed.get() < 20 || !enough.test(comm)) &&
                                System.currentTimeMillis() < endMs;
                            more = comm.broadcastBytes(new byte[] {(byte)(wantMore ? 1 : 0)}, 1)[0] == 1;
                            Thread.sleep(1);
                        }
                        return new Replayed(comm.rejectedMessages(), comm.droppedStaleMessages());
                    }
                }));
            }
            final Replayed rank1 = ranks.get(1).get(60, TimeUnit.SECONDS);
            ranks.get(0).get(60, TimeUnit.SECONDS);
            stop.set(true);
            replayer.get(10, TimeUnit.SECONDS);
            assertTrue(replayed.get() > 0, "nothing replayed");
            return rank1;
        }
        finally
        {
            stop.set(true);
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            EmbeddedDriver.release();
        }
    }

    /**
     * A genuine handshake of an earlier stage, as an eavesdropper would have it: that stage's rank 0 (key
     * {@code oldKey}) sends its Hello to rank 1's endpoint, where this test listens instead of a rank 1.
     */
    private static byte[] captureHello(final CollectiveSettings settings, final StageKey oldKey) throws Exception
    {
        final List<PeerEndpoint> peers = localEndpoints(settings, freeUdpPorts(2));
        final ExecutorService pool = Executors.newSingleThreadExecutor();
        final String dir = EmbeddedDriver.acquire(settings);
        try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
            Subscription listener = aeron.addSubscription("aeron:udp?endpoint=127.0.0.1:" + peers.get(1).port(),
                settings.streamId()))
        {
            final Future<?> oldRank0 = pool.submit(() ->
            {
                try (AeronCommunicator ignored = new AeronCommunicator(settings, 0, peers, JOB, GENERATION, oldKey))
                {
                    return null;
                }
                catch (final CollectiveException expected)
                {
                    return null; // nobody answered: the listener is no rank
                }
            });
            final AtomicReference<byte[]> captured = new AtomicReference<>();
            final io.aeron.FragmentAssembler assembler = new io.aeron.FragmentAssembler((buffer, offset, length, h) ->
            {
                if (captured.get() == null && WireFormat.type(buffer, offset) == WireFormat.TYPE_HELLO)
                {
                    final byte[] bytes = new byte[length];
                    buffer.getBytes(offset, bytes);
                    captured.set(bytes);
                }
            });
            final long deadlineMs = System.currentTimeMillis() + 20_000;
            while (captured.get() == null && System.currentTimeMillis() < deadlineMs)
            {
                if (listener.poll(assembler, 10) == 0)
                {
                    Thread.sleep(1);
                }
            }
            oldRank0.get(30, TimeUnit.SECONDS);
            assertNotNull(captured.get(), "no Hello captured from the earlier stage");
            return captured.get();
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            EmbeddedDriver.release();
        }
    }
}
