package io.baton.common.collective;

import java.io.Serializable;
import java.util.Objects;

/**
 * Where one rank listens, as exchanged by the rendezvous (Spark's allGather, or a test's list): the UDP
 * host and port, and the identity of the media driver it uses. Two ranks with equal host and equal
 * {@code driverId} share a driver and can talk over IPC.
 *
 * @param host     address peers send UDP to (not a wildcard).
 * @param port     UDP port the rank's subscription binds.
 * @param driverId identity of the rank's media driver: {@code "jvm:<pid>@<start>"} for the per-JVM embedded
 *                 driver, {@code "dir:<path>"} for an external one (see {@link #local}).
 */
public record PeerEndpoint(String host, int port, String driverId) implements Serializable
{
    public PeerEndpoint
    {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(driverId, "driverId");
        if (port <= 0 || port > 65_535)
        {
            throw new IllegalArgumentException("port=" + port + " must be in 1..65535 (host=" + host + ")");
        }
    }

    /** The endpoint of a rank in this JVM listening on {@code host:port} with the settings' driver mode. */
    public static PeerEndpoint local(final CollectiveSettings settings, final String host, final int port)
    {
        return new PeerEndpoint(host, port, localDriverId(settings));
    }

    /** The endpoint of {@code rank} in this JVM on {@code host:(basePort + rank)}. */
    public static PeerEndpoint forRank(final CollectiveSettings settings, final String host, final int rank)
    {
        return local(settings, host, settings.basePort() + rank);
    }

    static String localDriverId(final CollectiveSettings settings)
    {
        if (settings.driverMode() == CollectiveSettings.DriverMode.EXTERNAL)
        {
            return "dir:" + new java.io.File(settings.externalDriverDirectory()).getAbsolutePath();
        }
        if (settings.driverMode() == CollectiveSettings.DriverMode.SHARED)
        {
            return "dir:" + SharedDriver.directory(settings).getPath();
        }
        final ProcessHandle self = ProcessHandle.current();
        return "jvm:" + self.pid() + "@" + self.info().startInstant().map(Object::toString).orElse("?");
    }

    @Override
    public String toString()
    {
        return host + ":" + port + "(" + driverId + ")";
    }
}
