package io.baton.coordinator.metrics;

import io.baton.coordinator.train.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scrapes the Prometheus endpoint on loopback while the metrics file grows. */
class PrometheusEndpointTest
{
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(final String url) throws Exception
    {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    private static String line(final int step, final double loss)
    {
        return "{\"step\":" + step + ",\"epoch\":1,\"step_in_epoch\":3,\"steps_per_epoch\":10,\"lr\":0.05,\"loss\":"
            + loss + ",\"top1\":\"NaN\",\"images\":64,\"images_per_sec\":512.5,\"step_ms\":125.0,"
            + "\"data_wait_ms\":2.5,\"comm_ms\":40.0,\"grad_norm\":1.5}\n";
    }

    @Test
    void aPortInUseIsAConfigurationErrorNamingTheKeys() throws Exception
    {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new PrometheusEndpoint(new RunDirectory(dir.toString()), "127.0.0.1", taken.getLocalPort()));
            assertTrue(ex.getMessage().startsWith("metrics.port = " + taken.getLocalPort() + ", metrics.bind-address "
                + "= 127.0.0.1: cannot listen there (Address already in use); choose another port"), ex.getMessage());
        }
    }

    @Test
    void shouldServeTheLatestCompleteMetricsLineOnLoopback() throws Exception
    {
        final String url;
        try (PrometheusEndpoint endpoint = new PrometheusEndpoint(new RunDirectory(dir.toString()), "127.0.0.1", 0))
        {
            url = endpoint.url();
            assertTrue(url.startsWith("http://127.0.0.1:") && endpoint.port() > 0, url);
            final HttpResponse<String> empty = get(url);
            assertEquals(200, empty.statusCode());
            assertTrue(empty.body().contains("baton_up 1\n"));
            assertFalse(empty.body().contains("baton_step"), "no step before training writes");

            Files.writeString(dir.resolve("metrics.jsonl"), line(12, 1.25) + line(13, 0.75) + "{\"step\":14,\"ep");
            Files.writeString(dir.resolve("health.jsonl"), "{\"step\":9,\"blocks\":[{\"block\":\"stage1_block1\","
                + "\"max_activation\":150.5,\"dead_fraction\":null}],\"grad_norm\":{\"stage1\":2.5},"
                + "\"warnings\":[\"block stage1_block1: max |activation| 150.5 > 100.0\"]}\n");
            final HttpResponse<String> scrape = get(url);
            assertEquals("text/plain; version=0.0.4; charset=utf-8",
                scrape.headers().firstValue("Content-Type").orElse(""));
            final String body = scrape.body();
            assertTrue(body.contains("# TYPE baton_step gauge\nbaton_step 13\n"), body);
            assertTrue(body.contains("\nbaton_loss 0.75\n"), body);
            assertTrue(body.contains("\nbaton_batch_top1 NaN\n"), body);
            assertTrue(body.contains("\nbaton_images_per_second 512.5\n"), body);
            assertTrue(body.contains("\nbaton_step_seconds 0.125\n"), body);
            assertTrue(body.contains("\nbaton_comm_seconds 0.04\n"), body);
            assertTrue(body.contains("\nbaton_health_warnings 1\n"), body);
            assertTrue(body.contains("\nbaton_health_max_activation{block=\"stage1_block1\"} 150.5\n"), body);
            assertTrue(body.contains("\nbaton_health_dead_fraction{block=\"stage1_block1\"} NaN\n"), body);
            assertTrue(body.contains("\nbaton_health_grad_norm{stage=\"stage1\"} 2.5\n"), body);

            Files.writeString(dir.resolve("metrics.jsonl"), "ep\":1}\n" + line(15, 0.5), StandardOpenOption.APPEND);
            assertTrue(get(url).body().contains("\nbaton_step 15\n"), "a later scrape shows the newer step");
            assertEquals(404, get(url.replace("/metrics", "/other")).statusCode());
        }
        final Exception closed = assertThrows(Exception.class, () -> get(url));
        assertTrue(closed instanceof ConnectException || closed.getCause() instanceof ConnectException
            || closed instanceof IOException, "closed endpoint refuses connections: " + closed);
    }
}
