package io.baton.coordinator.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A page in headless Chromium driven through the DevTools protocol (a WebSocket, JDK client only): evaluates
 * expressions and moves and presses the mouse through Chromium's input pipeline, as a person would, so uPlot's own
 * event handlers see the hover and the drag.
 *
 * <p>Threading: one test thread; replies arrive on the WebSocket's thread and complete futures.
 */
final class DevToolsPage implements AutoCloseable
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REPLY = Duration.ofSeconds(30);

    private final Process chromium;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private DevToolsPage(final Process chromium, final Path profile, final WebSocket socket)
    {
        this.chromium = chromium;
        this.profile = profile;
        this.socket = socket;
    }

    /** Opens {@code page} in a new headless Chromium and waits until the report script has run to its end. */
    static DevToolsPage open(final String chromiumPath, final Path page) throws Exception
    {
        final Path profile = Files.createTempDirectory("baton-devtools-");
        final Process process = new ProcessBuilder(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0",
            "--remote-allow-origins=*", "--window-size=1280,2400", page.toUri().toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            final Path portFile = profile.resolve("DevToolsActivePort");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2))
            {
                if (System.nanoTime() > deadline || !process.isAlive())
                {
                    throw new IllegalStateException("Chromium did not open its DevTools port within 30 s");
                }
                Thread.sleep(50);
            }
            final int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
            final HttpClient http = HttpClient.newHttpClient();
            String pageSocket = null;
            while (pageSocket == null)
            {
                final JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
                for (final JsonNode target : targets)
                {
                    if ("page".equals(target.path("type").asText()) && target.path("url").asText().startsWith("file:"))
                    {
                        pageSocket = target.path("webSocketDebuggerUrl").asText();
                    }
                }
                if (pageSocket == null)
                {
                    if (System.nanoTime() > deadline)
                    {
                        throw new IllegalStateException("Chromium shows no page for " + page);
                    }
                    Thread.sleep(50);
                }
            }
            final Listener listener = new Listener();
            final WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), listener)
                .get(30, TimeUnit.SECONDS);
            final DevToolsPage devTools = new DevToolsPage(process, profile, socket);
            listener.owner = devTools;
            while (!"true".equals(devTools.evaluate("document.body && document.body.getAttribute('data-report-ready')")
                .asText()))
            {
                if (System.nanoTime() > deadline)
                {
                    throw new IllegalStateException("the report script did not finish within 30 s");
                }
                Thread.sleep(50);
            }
            return devTools;
        }
        catch (final Exception ex)
        {
            process.destroyForcibly();
            delete(profile);
            throw ex;
        }
    }

    /** The value of a JavaScript expression (returned by value: strings, numbers, JSON-able objects). */
    JsonNode evaluate(final String expression) throws Exception
    {
        final ObjectNode params = JSON.createObjectNode();
        params.put("expression", expression);
        params.put("returnByValue", true);
        final JsonNode result = call("Runtime.evaluate", params);
        if (result.has("exceptionDetails"))
        {
            throw new IllegalStateException("page error in " + expression + ": " + result.get("exceptionDetails"));
        }
        return result.path("result").path("value");
    }

    /** A mouse event at page coordinates ({@code mouseMoved}, {@code mousePressed}, {@code mouseReleased}). */
    void mouse(final String type, final double x, final double y) throws Exception
    {
        final ObjectNode params = JSON.createObjectNode();
        params.put("type", type);
        params.put("x", x);
        params.put("y", y);
        if (!"mouseMoved".equals(type))
        {
            params.put("button", "left");
            params.put("clickCount", 1);
        }
        else
        {
            params.put("button", "none");
        }
        call("Input.dispatchMouseEvent", params);
    }

    private JsonNode call(final String method, final ObjectNode params) throws Exception
    {
        final int id = ids.incrementAndGet();
        final CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        final ObjectNode message = JSON.createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", params);
        socket.sendText(JSON.writeValueAsString(message), true).get(REPLY.toSeconds(), TimeUnit.SECONDS);
        final JsonNode answer = reply.get(REPLY.toSeconds(), TimeUnit.SECONDS);
        if (answer.has("error"))
        {
            throw new IllegalStateException(method + " failed: " + answer.get("error"));
        }
        return answer.path("result");
    }

    @Override
    public void close() throws IOException
    {
        socket.abort();
        chromium.destroy();
        try
        {
            if (!chromium.waitFor(10, TimeUnit.SECONDS))
            {
                chromium.destroyForcibly();
            }
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            chromium.destroyForcibly();
        }
        delete(profile);
    }

    private static void delete(final Path dir) throws IOException
    {
        try (var files = Files.walk(dir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Joins a message's frames and completes the call it answers; DevTools events (no id) are ignored. */
    private static final class Listener implements WebSocket.Listener
    {
        private final StringBuilder text = new StringBuilder();
        private volatile DevToolsPage owner;

        @Override
        public CompletionStage<?> onText(final WebSocket webSocket, final CharSequence data, final boolean last)
        {
            text.append(data);
            if (last)
            {
                try
                {
                    final JsonNode message = JSON.readTree(text.toString());
                    if (message.has("id") && owner != null)
                    {
                        final CompletableFuture<JsonNode> reply = owner.pending.remove(message.get("id").asInt());
                        if (reply != null)
                        {
                            reply.complete(message);
                        }
                    }
                }
                catch (final IOException ex)
                {
                    // not a reply: ignored
                }
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }
    }
}
