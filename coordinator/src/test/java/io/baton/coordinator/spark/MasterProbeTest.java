package io.baton.coordinator.spark;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MasterProbeTest
{
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** A loopback port nothing listens on (bound once, then released). */
    private static int closedPort() throws Exception
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    @Test
    void mastersOtherThanStandaloneAreNotProbed()
    {
        MasterProbe.requireReachable("local[2]", TIMEOUT);
        MasterProbe.requireReachable("local-cluster[2,1,1024]", TIMEOUT);
        MasterProbe.requireReachable("yarn", TIMEOUT);
        MasterProbe.requireReachable("k8s://https://127.0.0.1:1", TIMEOUT);
    }

    @Test
    void aStandaloneMasterThatAcceptsConnectionsPasses() throws Exception
    {
        try (ServerSocket master = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            MasterProbe.requireReachable("spark://127.0.0.1:" + master.getLocalPort(), TIMEOUT);
        }
    }

    @Test
    void aMasterRefusingConnectionsIsAUsageErrorNamingKeyValueAndReason() throws Exception
    {
        final int port = closedPort();
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> MasterProbe.requireReachable("spark://127.0.0.1:" + port, TIMEOUT));
        assertEquals("cluster.master = spark://127.0.0.1:" + port + ": no Spark master answers at 127.0.0.1:" + port
            + " (Connection refused); is the cluster up?", refused.getMessage());
    }

    @Test
    void aHighAvailabilityListPassesWhenOneOfItsMastersAnswers() throws Exception
    {
        final int dead = closedPort();
        try (ServerSocket master = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            MasterProbe.requireReachable("spark://127.0.0.1:" + dead + ",127.0.0.1:" + master.getLocalPort(),
                TIMEOUT);
        }
    }

    @Test
    void aPortThatIsNotANumberIsNamed()
    {
        final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
            () -> MasterProbe.requireReachable("spark://127.0.0.1:77o7", TIMEOUT));
        assertEquals("cluster.master = spark://127.0.0.1:77o7: bad port in 127.0.0.1:77o7", bad.getMessage());
    }
}
