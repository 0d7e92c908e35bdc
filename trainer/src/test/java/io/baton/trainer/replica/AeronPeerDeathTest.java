package io.baton.trainer.replica;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.StageKey;
import io.baton.common.collective.CollectiveException;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.PeerEndpoint;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.syncbn.SyncBatchNorm;
import io.baton.trainer.syncbn.SyncBatchNormSwap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica whose peer dies mid-run (its AeronCommunicator closed after two steps) fails within the collective
 * deadline with a {@link CollectiveException} naming the missing rank, instead of hanging.
 */
class AeronPeerDeathTest
{
    private static final StageKey KEY = StageKey.random();

    private static final long DEADLINE_MS = 2_000;
    private static final long SLACK_MS = 3_000;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldFailWithinTheDeadlineNamingTheDeadRank() throws Exception
    {
        final CollectiveSettings settings = CollectiveSettings.builder()
            .operationDeadlineNs(TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(20))
            .termLength(4 * 1024 * 1024)
            .build();
        final List<PeerEndpoint> peers = new ArrayList<>();
        for (final int port : freeUdpPorts(2))
        {
            peers.add(PeerEndpoint.local(settings, "127.0.0.1", port));
        }
        final List<INDArray[]> batches = DdpHarness.data(50, 8, 41);
        final ComputationGraphConfiguration conf = SyncBatchNormSwap.toSyncBatchNorm(DdpHarness.residualNet(), 0);
        final AtomicLong diedAtNs = new AtomicLong();
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final Future<Throwable> survivor = pool.submit(() -> runRank(settings, peers, 0, conf, batches, diedAtNs));
            final Future<Throwable> victim = pool.submit(() -> runRank(settings, peers, 1, conf, batches, diedAtNs));
            assertEquals(null, victim.get(60, TimeUnit.SECONDS));
            final Throwable failure = survivor.get(60, TimeUnit.SECONDS);
            final long failedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - diedAtNs.get());
            final CollectiveException collective = collectiveCause(failure);
            assertNotNull(collective, "expected a CollectiveException, got " + failure);
            assertEquals(List.of(1), collective.missingRanks(), collective.getMessage());
            assertTrue(collective.getMessage().contains("rank=0") && collective.getMessage().contains("[1]"),
                collective.getMessage());
            assertTrue(failedAfterMs < DEADLINE_MS + SLACK_MS, "failed only " + failedAfterMs + " ms after the "
                + "peer died; deadline " + DEADLINE_MS + " ms");
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    /** Rank 1 trains 2 steps and closes its communicator; rank 0 trains until it fails and returns the failure. */
    private static Throwable runRank(
        final CollectiveSettings settings, final List<PeerEndpoint> peers, final int rank,
        final ComputationGraphConfiguration conf, final List<INDArray[]> batches, final AtomicLong diedAtNs)
    {
        final Communicator comm = new AeronCommunicator(settings, rank, peers, "peer-death-test", 1L, KEY);
        try
        {
            final ComputationGraph graph = DdpHarness.init(conf);
            SyncBatchNorm.bind(graph, comm);
            final SynchronousStep replica = new SynchronousStep(graph, comm, 1,
                new LargeBatchSgd(ParamLayout.of(graph), SgdSettings.momentum(0.9, false)));
            replica.broadcastInitialState();
            final int steps = rank == 1 ? 2 : batches.size();
            for (int s = 0; s < steps; s++)
            {
                final INDArray[] b = batches.get(s);
                replica.step(DdpHarness.rows(b[0], rank * 4, rank * 4 + 4), DdpHarness.rows(b[1], rank * 4,
                    rank * 4 + 4), 8, 0.05);
            }
            return rank == 1 ? null : new AssertionError("rank 0 finished " + steps + " steps without its peer");
        }
        catch (final Throwable t)
        {
            return t;
        }
        finally
        {
            comm.close();
            if (rank == 1)
            {
                diedAtNs.set(System.nanoTime());
            }
        }
    }

    private static CollectiveException collectiveCause(final Throwable t)
    {
        for (Throwable c = t; c != null; c = c.getCause())
        {
            if (c instanceof CollectiveException)
            {
                return (CollectiveException)c;
            }
        }
        return null;
    }

    private static int[] freeUdpPorts(final int count) throws IOException
    {
        final List<DatagramSocket> sockets = new ArrayList<>();
        try
        {
            final int[] ports = new int[count];
            for (int i = 0; i < count; i++)
            {
                final DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        }
        finally
        {
            sockets.forEach(DatagramSocket::close);
        }
    }
}
