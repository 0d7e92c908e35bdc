package io.baton.coordinator.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.baton.common.config.BatonConfig;
import io.baton.coordinator.OpsKeys;
import io.baton.coordinator.report.JsonLines;
import io.baton.coordinator.report.RunReport;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.StepSegments;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The driver's Prometheus endpoint: {@code GET /metrics} answers with {@link PrometheusText} of the newest complete
 * lines of the run's {@code metrics.jsonl} and {@code health.jsonl}, read on each scrape (only the file's tail, or the
 * newest segments on a store without append), so
 * it needs no hook into the training loop. Listens on {@code metrics.bind-address} (loopback by default) and
 * {@code metrics.port} (0 = ephemeral; see {@link #port()}).
 *
 * <p>Threading: one daemon thread serves requests; {@link #close()} stops it and is idempotent.
 */
public final class PrometheusEndpoint implements AutoCloseable
{
    /** Bytes read from the end of a JSON-lines file to find its last complete line. */
    static final int TAIL_BYTES = 64 * 1024;

    private final RunDirectory run;
    private final HttpServer server;
    private final ExecutorService executor;
    private boolean closed;

    /**
     * Starts serving.
     *
     * @param run     the run whose metrics are served.
     * @param address host name or address to bind.
     * @param port    port, 0 for an ephemeral one.
     */
    public PrometheusEndpoint(final RunDirectory run, final String address, final int port)
    {
        this.run = run;
        final InetSocketAddress socket = new InetSocketAddress(address, port);
        if (socket.isUnresolved())
        {
            throw new IllegalArgumentException(OpsKeys.METRICS_BIND_ADDRESS.name() + " = " + address
                + ": unknown host");
        }
        try
        {
            server = HttpServer.create(socket, 8);
        }
        catch (final java.net.BindException ex)
        {
            // A port another process holds, or an address not of this host: the configuration's to fix.
            throw new IllegalArgumentException(OpsKeys.METRICS_PORT.name() + " = " + port + ", "
                + OpsKeys.METRICS_BIND_ADDRESS.name() + " = " + address + ": cannot listen there (" + ex.getMessage()
                + "); choose another port, 0 for any free one, or -1 to turn the endpoint off", ex);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot start the Prometheus endpoint on " + address + ":" + port + ": "
                + ex.getMessage(), ex);
        }
        executor = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "baton-prometheus");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Starts the endpoint configured by {@code metrics.*}, or returns null when {@code metrics.port = -1}. */
    public static PrometheusEndpoint startIfEnabled(final BatonConfig config, final RunDirectory run)
    {
        final int port = config.get(OpsKeys.METRICS_PORT);
        return port < 0 ? null : new PrometheusEndpoint(run, config.get(OpsKeys.METRICS_BIND_ADDRESS), port);
    }

    /** The port listened on (the actual one when configured as 0). */
    public int port()
    {
        return server.getAddress().getPort();
    }

    /** The scrape URL. */
    public String url()
    {
        return "http://" + server.getAddress().getHostString() + ":" + port() + "/metrics";
    }

    private void handle(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod()))
            {
                respond(exchange, 405, "only GET /metrics\n");
                return;
            }
            if (!"/metrics".equals(exchange.getRequestURI().getPath()))
            {
                respond(exchange, 404, "Baton serves Prometheus text at /metrics\n");
                return;
            }
            final String body = PrometheusText.render(lastLine(RunDirectory.METRICS), lastLine(RunReport.HEALTH));
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            respond(exchange, 200, body);
        }
    }

    private static void respond(final HttpExchange exchange, final int status, final String body) throws IOException
    {
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        final boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head)
        {
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(bytes);
            }
        }
    }

    /** The last complete line of a run file, parsed; null when there is none yet. */
    private JsonNode lastLine(final String name)
    {
        try
        {
            final FileSystem fs = run.fileSystem();
            final Path file = run.path(name);
            if (run.exists(StepSegments.directoryName(name)))
            {
                final String line = StepSegments.lastLine(run, name, Set.of());
                return line == null ? null : JsonLines.parse(line + "\n").last();
            }
            if (!fs.exists(file))
            {
                return null;
            }
            final FileStatus status = fs.getFileStatus(file);
            final long start = Math.max(0, status.getLen() - TAIL_BYTES);
            try (FSDataInputStream in = fs.open(file))
            {
                in.seek(start);
                String text = new String(in.readNBytes((int)(status.getLen() - start)), StandardCharsets.UTF_8);
                if (start > 0)
                {
                    text = text.substring(text.indexOf('\n') + 1);
                }
                return JsonLines.parse(text).last();
            }
        }
        catch (final IOException | UncheckedIOException ex)
        {
            return null;
        }
    }

    @Override
    public synchronized void close()
    {
        if (!closed)
        {
            closed = true;
            server.stop(0);
            executor.shutdownNow();
        }
    }
}
