package io.baton.coordinator.metrics;

import io.baton.coordinator.OpsKeys;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The driver's Prometheus endpoint: the Prometheus Java client's HTTP server ({@code GET /metrics}, text or
 * OpenMetrics or protobuf by the scraper's Accept header; {@code /-/healthy}) serving one registry. Listens on
 * {@code metrics.bind-address} (loopback by default) and {@code metrics.port} (0 = ephemeral; see {@link #port()}).
 *
 * <p>Threading: one daemon thread serves requests; {@link #close()} stops it and is idempotent.
 */
public final class PrometheusEndpoint implements AutoCloseable
{
    private final HTTPServer server;
    private final ExecutorService executor;
    private final String host;
    private boolean closed;

    /**
     * Starts serving.
     *
     * @param registry what is served.
     * @param address  host name or address to bind.
     * @param port     port, 0 for an ephemeral one.
     * @throws IllegalArgumentException naming the keys when the address is unknown or the port cannot be bound.
     */
    public PrometheusEndpoint(final PrometheusRegistry registry, final String address, final int port)
    {
        final InetSocketAddress socket = new InetSocketAddress(address, port);
        if (socket.isUnresolved())
        {
            throw new IllegalArgumentException(OpsKeys.METRICS_BIND_ADDRESS.name() + " = " + address
                + ": unknown host");
        }
        executor = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "baton-prometheus");
            t.setDaemon(true);
            return t;
        });
        try
        {
            server = HTTPServer.builder().inetAddress(socket.getAddress()).port(port).registry(registry)
                .executorService(executor).buildAndStart();
        }
        catch (final BindException ex)
        {
            executor.shutdownNow();
            // A port another process holds, or an address not of this host: the configuration's to fix.
            throw new IllegalArgumentException(OpsKeys.METRICS_PORT.name() + " = " + port + ", "
                + OpsKeys.METRICS_BIND_ADDRESS.name() + " = " + address + ": cannot listen there (" + ex.getMessage()
                + "); choose another port, 0 for any free one, or -1 to turn the endpoint off", ex);
        }
        catch (final IOException | RuntimeException ex)
        {
            executor.shutdownNow();
            throw new UncheckedIOException("cannot start the Prometheus endpoint on " + address + ":" + port + ": "
                + ex.getMessage(), ex instanceof IOException io ? io : new IOException(ex));
        }
        host = socket.getAddress().getHostAddress();
    }

    /** The port listened on (the actual one when configured as 0). */
    public int port()
    {
        return server.getPort();
    }

    /** The scrape URL. */
    public String url()
    {
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/metrics";
    }

    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            server.close();
            executor.shutdownNow();
        }
    }
}
