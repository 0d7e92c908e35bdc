package io.baton.common.collective;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.Locale;

/**
 * Maps the validated {@code collective.*} keys onto {@link CollectiveSettings}, and picks this replica's endpoint.
 */
public final class CollectiveConfigs
{
    private CollectiveConfigs()
    {
    }

    public static CollectiveSettings settings(final BatonConfig config)
    {
        final int socketBuffer = (int) Math.min(Integer.MAX_VALUE, config.get(CommonKeys.COLLECTIVE_SOCKET_BUFFER));
        final long timeoutNs = config.get(CommonKeys.COLLECTIVE_TIMEOUT).toNanos();
        final String host = config.get(CommonKeys.COLLECTIVE_HOST);
        final CollectiveSettings.Builder builder = CollectiveSettings.builder()
            .transport(CollectiveSettings.Transport.valueOf(
                config.get(CommonKeys.COLLECTIVE_TRANSPORT).toUpperCase(Locale.ROOT)))
            .bindHost(host == null ? "0.0.0.0" : host)
            .termLength((int) (long) config.get(CommonKeys.COLLECTIVE_TERM_LENGTH))
            .mtuLength(config.get(CommonKeys.COLLECTIVE_MTU))
            .socketSendBufferLength(socketBuffer)
            .socketReceiveBufferLength(socketBuffer)
            .receiveWindowLength(socketBuffer)
            .operationDeadlineNs(timeoutNs)
            .connectDeadlineNs(config.get(CommonKeys.COLLECTIVE_CONNECT_TIMEOUT).toNanos())
            .smallThresholdBytes((int) (long) config.get(CommonKeys.COLLECTIVE_SMALL_THRESHOLD))
            .chunkBytes((int) (long) config.get(CommonKeys.COLLECTIVE_CHUNK))
            .compression(CollectiveSettings.Compression.valueOf(
                config.get(CommonKeys.COLLECTIVE_COMPRESSION).toUpperCase(Locale.ROOT)))
            .driverMode(CollectiveSettings.DriverMode.valueOf(
                config.get(CommonKeys.COLLECTIVE_DRIVER).toUpperCase(Locale.ROOT)))
            .embeddedDriverLingerNs(config.get(CommonKeys.COLLECTIVE_DRIVER_LINGER).toNanos());
        final int port = config.get(CommonKeys.COLLECTIVE_PORT);
        if (port > 0)
        {
            builder.basePort(port);
        }
        final String driverDir = config.get(CommonKeys.COLLECTIVE_DRIVER_DIR);
        if (driverDir != null)
        {
            builder.externalDriverDirectory(driverDir);
        }
        try
        {
            return builder.build().validate();
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("collective.* configuration is inconsistent: " + ex.getMessage(), ex);
        }
    }

    /**
     * This replica's endpoint: {@code collective.host} (or {@code fallbackHost}, the address Spark knows the executor
     * by) and {@code collective.port + localIndex}, or a free UDP port when {@code collective.port} is 0.
     */
    public static PeerEndpoint endpoint(
        final BatonConfig config, final CollectiveSettings settings, final String fallbackHost, final int localIndex)
    {
        final String host = config.get(CommonKeys.COLLECTIVE_HOST) != null ? config.get(CommonKeys.COLLECTIVE_HOST)
            : fallbackHost;
        final int port = config.get(CommonKeys.COLLECTIVE_PORT);
        return PeerEndpoint.local(settings, host, port > 0 ? port + localIndex : freeUdpPort(host));
    }

    /** A UDP port that was free on {@code host} a moment ago. */
    public static int freeUdpPort(final String host)
    {
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getByName(host)))
        {
            return socket.getLocalPort();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot find a free UDP port on " + host, ex);
        }
    }
}
