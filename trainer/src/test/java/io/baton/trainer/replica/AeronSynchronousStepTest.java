package io.baton.trainer.replica;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.StageKey;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;
import io.baton.trainer.backend.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DDP equivalence of {@link SynchronousStepTest} on the real Aeron communicator (UDP on loopback, embedded
 * driver, ranks as threads).
 */
class AeronSynchronousStepTest
{
    private static final StageKey KEY = StageKey.random();

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldTrainTwoAeronReplicasLikeOneOnTheConcatenatedBatch() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(5, 8, 21);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, 10_000), true, batches, 0, null).get(0);
        final CollectiveSettings settings = settings();
        final List<PeerEndpoint> peers = peers(settings, 2);
        final List<INDArray> replicas = DdpHarness.train(2,
            rank -> new AeronCommunicator(settings, rank, peers, "replica-step-test", 1L, KEY), true, batches, 1, null);
        assertTrue(Arrays.equals(replicas.get(0).toFloatVector(), replicas.get(1).toFloatVector()),
            "replicas must be bit-identical");
        final double err = DdpHarness.relError(replicas.get(0), single);
        assertTrue(err < 1e-4, "relative parameter error " + err);
    }

    /**
     * The overlapped gradient all-reduce on a second Aeron communicator per rank (same ports and embedded driver,
     * the next stream id), as a Spark replica sets it up: the same bits as one all-reduce after backward.
     */
    @Test
    void shouldGiveTheSameBitsWhenTheGradientAllReduceOverlapsBackward() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(4, 8, 22);
        final CollectiveSettings settings = settings();
        final CollectiveSettings gradients = OverlappedAllReduce.communicatorSettings(settings);
        final List<PeerEndpoint> peers = peers(settings, 2);
        final List<INDArray> plain = DdpHarness.train(2,
            rank -> new AeronCommunicator(settings, rank, peers, "overlap-test", 1L, KEY), true, batches, 1, null);
        final List<INDArray> overlapped = DdpHarness.train(2,
            rank -> new AeronCommunicator(settings, rank, peers, "overlap-test", 2L, KEY),
            new DdpHarness.Overlap(rank -> new AeronCommunicator(gradients, rank, peers,
                OverlappedAllReduce.communicatorJobId("overlap-test"), 2L, KEY),
                16), true, null, batches, 1, null);
        for (int rank = 0; rank < 2; rank++)
        {
            assertTrue(Arrays.equals(plain.get(rank).toFloatVector(), overlapped.get(rank).toFloatVector()),
                "rank " + rank + " must end with the plain all-reduce's bits");
        }
    }

    private static CollectiveSettings settings()
    {
        return CollectiveSettings.builder()
            .operationDeadlineNs(TimeUnit.SECONDS.toNanos(20))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(20))
            .termLength(4 * 1024 * 1024)
            .build();
    }

    private static List<PeerEndpoint> peers(final CollectiveSettings settings, final int worldSize) throws IOException
    {
        final List<PeerEndpoint> out = new ArrayList<>();
        for (final int port : freeUdpPorts(worldSize))
        {
            out.add(PeerEndpoint.local(settings, "127.0.0.1", port));
        }
        return out;
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
