package io.baton.trainer.replica;

import io.baton.common.collective.Communicator;
import io.baton.trainer.backend.NativeRuntime;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DDP equivalence of {@link ReplicaStepTest} on the real Aeron communicator (UDP on loopback, embedded
 * driver, ranks as threads). AeronCommunicator is built by reflection so that this module compiles against a
 * common without it; the test is skipped (not passed) when the class is absent.
 */
class AeronReplicaStepTest
{
    private static final String PACKAGE = "io.baton.common.collective.";

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldTrainTwoAeronReplicasLikeOneOnTheConcatenatedBatch() throws Exception
    {
        Assumptions.assumeTrue(aeronAvailable(), "AeronCommunicator is not in baton-common yet");
        final List<INDArray[]> batches = DdpHarness.data(5, 8, 21);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, 10_000), true, batches, 0, null).get(0);
        final Object settings = settings();
        final List<Object> peers = peers(settings, 2);
        final List<INDArray> replicas = DdpHarness.train(2, rank -> aeron(settings, rank, peers), true, batches, 1,
            null);
        assertTrue(Arrays.equals(replicas.get(0).toFloatVector(), replicas.get(1).toFloatVector()),
            "replicas must be bit-identical");
        final double err = DdpHarness.relError(replicas.get(0), single);
        assertTrue(err < 1e-4, "relative parameter error " + err);
    }

    private static boolean aeronAvailable()
    {
        try
        {
            Class.forName(PACKAGE + "AeronCommunicator");
            return true;
        }
        catch (final ClassNotFoundException ex)
        {
            return false;
        }
    }

    private static Object settings() throws Exception
    {
        final Class<?> settingsClass = Class.forName(PACKAGE + "CollectiveSettings");
        final Object builder = settingsClass.getMethod("builder").invoke(null);
        final Class<?> b = builder.getClass();
        b.getMethod("operationDeadlineNs", long.class).invoke(builder, TimeUnit.SECONDS.toNanos(20));
        b.getMethod("connectDeadlineNs", long.class).invoke(builder, TimeUnit.SECONDS.toNanos(20));
        b.getMethod("termLength", int.class).invoke(builder, 4 * 1024 * 1024);
        return b.getMethod("build").invoke(builder);
    }

    private static List<Object> peers(final Object settings, final int worldSize) throws Exception
    {
        final Class<?> endpoint = Class.forName(PACKAGE + "PeerEndpoint");
        final Method local = endpoint.getMethod("local", settings.getClass(), String.class, int.class);
        final List<Object> out = new ArrayList<>();
        for (final int port : freeUdpPorts(worldSize))
        {
            out.add(local.invoke(null, settings, "127.0.0.1", port));
        }
        return out;
    }

    private static Communicator aeron(final Object settings, final int rank, final List<Object> peers)
    {
        try
        {
            return (Communicator)Class.forName(PACKAGE + "AeronCommunicator")
                .getConstructor(settings.getClass(), int.class, List.class, String.class, long.class)
                .newInstance(settings, rank, peers, "replica-step-test", 1L);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new IllegalStateException("cannot construct AeronCommunicator for rank " + rank, ex);
        }
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
