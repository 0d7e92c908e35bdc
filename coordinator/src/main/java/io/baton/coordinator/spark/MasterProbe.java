package io.baton.coordinator.spark;

import io.baton.coordinator.CoordinatorKeys;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that a standalone Spark master ({@code spark://host:port[,host2:port2...]}) accepts connections before the
 * driver starts. Spark itself retries the registration for a minute and then stops the application, after which the
 * job would only report "0 task slots"; a refused or unresolvable address is named at once instead. Other masters
 * (local, YARN, Kubernetes) are not probed.
 *
 * <p>Threading: stateless; any thread.
 */
public final class MasterProbe
{
    private static final int DEFAULT_PORT = 7077;

    private MasterProbe()
    {
    }

    /**
     * Returns when at least one of a {@code spark://} master's addresses accepts a TCP connection within
     * {@code timeout}; does nothing for other masters.
     *
     * @throws IllegalArgumentException naming {@code cluster.master}, its value and why each address failed.
     */
    public static void requireReachable(final String master, final Duration timeout)
    {
        if (master == null || !master.startsWith("spark://"))
        {
            return;
        }
        final List<String> failures = new ArrayList<>();
        for (final String address : master.substring("spark://".length()).split(","))
        {
            final String hostPort = address.trim();
            final int colon = hostPort.lastIndexOf(':');
            final String host = colon > 0 ? hostPort.substring(0, colon) : hostPort;
            final int port;
            try
            {
                port = colon > 0 ? Integer.parseInt(hostPort.substring(colon + 1)) : DEFAULT_PORT;
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException(CoordinatorKeys.CLUSTER_MASTER.name() + " = " + master
                    + ": bad port in " + hostPort);
            }
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(host, port), (int)Math.max(1, timeout.toMillis()));
                return;
            }
            catch (final IOException ex)
            {
                failures.add(host + ":" + port + " (" + describe(ex) + ")");
            }
        }
        throw new IllegalArgumentException(CoordinatorKeys.CLUSTER_MASTER.name() + " = " + master
            + ": no Spark master answers at " + String.join(", ", failures) + "; is the cluster up?");
    }

    private static String describe(final IOException ex)
    {
        if (ex instanceof java.net.UnknownHostException)
        {
            return "unknown host";
        }
        if (ex instanceof java.net.SocketTimeoutException)
        {
            return "no answer within the timeout";
        }
        return ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
    }
}
