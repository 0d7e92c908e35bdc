package io.baton.coordinator.report;

import io.baton.coordinator.cli.BatonCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code baton report} on a run directory that is still being written, loaded in headless Chromium: the plots are
 * drawn with every metrics line and the numbers shown are those of the metrics file.
 */
class ReportTest
{
    private static final int EPOCHS = 3;
    private static final int STEPS_PER_EPOCH = 10;

    @TempDir
    Path dir;

    private record Step(long step, int epoch, double lr, double loss, double top1, double ips, double stepMs,
        double dataMs, double commMs)
    {
    }

    private List<Step> writeRun() throws IOException
    {
        final List<Step> steps = new ArrayList<>();
        final StringBuilder metrics = new StringBuilder();
        for (int s = 0; s < EPOCHS * STEPS_PER_EPOCH; s++)
        {
            final Step step = new Step(s, s / STEPS_PER_EPOCH, 0.1 * (1 + Math.cos(Math.PI * s / 30.0)) / 2,
                2.3 / (1 + 0.13 * s) + 0.01 * (s % 3), s < 5 ? Double.NaN : 0.2 + 0.02 * s, 400 + 7.5 * (s % 4),
                300 + s, 20 + 0.5 * s, 90 + 0.25 * s);
            steps.add(step);
            metrics.append(String.format(Locale.ROOT, "{\"step\":%d,\"epoch\":%d,\"step_in_epoch\":%d,"
                    + "\"steps_per_epoch\":%d,\"lr\":%s,\"loss\":%s,\"top1\":%s,\"images\":64,\"images_per_sec\":%.3f,"
                    + "\"step_ms\":%.3f,\"data_wait_ms\":%.3f,\"comm_ms\":%.3f,\"grad_norm\":%s}%n", s, step.epoch(),
                s % STEPS_PER_EPOCH, STEPS_PER_EPOCH, step.lr(), step.loss(),
                Double.isNaN(step.top1()) ? "\"NaN\"" : Double.toString(step.top1()), step.ips(), step.stepMs(),
                step.dataMs(), step.commMs(), 1.0 + s * 0.01));
        }
        // The line being written when the report is generated: must be left out, not break the page.
        metrics.append("{\"step\":30,\"epoch\":3,\"step_in_ep");
        Files.writeString(dir.resolve("metrics.jsonl"), metrics.toString());
        Files.writeString(dir.resolve("health.jsonl"),
            "{\"step\":9,\"blocks\":[{\"block\":\"stage1_block1\",\"max_activation\":3.5,\"dead_fraction\":0.0}],"
                + "\"grad_norm\":{\"stem\":0.5,\"stage1\":1.5,\"head\":0.25},\"warnings\":[]}\n"
                + "{\"step\":19,\"blocks\":[{\"block\":\"stage1_block1\",\"max_activation\":150.25,"
                + "\"dead_fraction\":0.125}],\"grad_norm\":{\"stem\":0.75,\"stage1\":2.5,\"head\":0.5},"
                + "\"warnings\":[\"block stage1_block1: max |activation| 150.3 > 100.0\"]}\n");
        Files.writeString(dir.resolve("run-events.jsonl"),
            "{\"event\":\"start\",\"time_ms\":1795790000000,\"step\":0,\"checkpoint\":\"none\"}\n"
                + "{\"event\":\"stage-failed\",\"time_ms\":1795790060000,\"stage\":0,\"restart\":1,"
                + "\"max_restarts\":3,\"error\":\"a replica failed: java.io.IOException: No space left on device\"}\n"
                + "{\"event\":\"resume\",\"time_ms\":1795790065000,\"step\":20,\"checkpoint\":\"ckpt-20\"}\n");
        return steps;
    }

    @Test
    void shouldDrawEveryPlotAndShowTheMetricsFileNumbersInChromium() throws Exception
    {
        final List<Step> steps = writeRun();
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"report", dir.toString()}, new PrintWriter(out),
            new PrintWriter(err));
        assertEquals(0, code, err.toString());
        final Path page = dir.resolve("report.html");
        final String html = Files.readString(page);
        assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"?(https?:)?//", Pattern.CASE_INSENSITIVE).matcher(html).find(),
            "the page must not reference anything on the network");
        assertFalse(html.contains("<link"), "no external style sheets");

        final String dom = dumpDom(page);
        assertTrue(dom.contains("data-report-ready=\"true\""), "the report script ran to the end:\n" + tail(dom));
        final int n = steps.size();
        assertEquals(n, drawn(dom, "plot-loss"), "one loss point per complete metrics line");
        assertEquals(n, drawn(dom, "plot-lr"));
        assertEquals(n, drawn(dom, "plot-ips"));
        assertEquals(3 * n, drawn(dom, "plot-time"), "step, data wait and communication series");
        assertEquals(n - 5, drawn(dom, "plot-top1"), "NaN accuracy lines are not drawn");
        assertEquals(EPOCHS, drawn(dom, "plot-epoch-loss"));
        assertEquals(2 * 3, drawn(dom, "plot-stage-grad"), "2 health checks x 3 groups");
        final Matcher path = Pattern.compile("<path d=\"(M[^\"]*)\"[^>]*data-series=\"loss\"").matcher(dom);
        assertTrue(path.find(), "loss path present");
        assertEquals(n - 1, path.group(1).split(" L").length - 1, "loss path has a segment per step");

        final Step last = steps.get(n - 1);
        assertEquals(String.valueOf(n), cell(dom, "stat-steps"));
        assertEquals(String.valueOf(n - 1), cell(dom, "stat-last-step"));
        assertEquals(String.valueOf(EPOCHS), cell(dom, "stat-epochs"));
        assertEquals(String.valueOf(64 * n), cell(dom, "stat-images"));
        assertEquals(String.format(Locale.ROOT, "%.4f", last.loss()), cell(dom, "stat-last-loss"));
        assertEquals(String.format(Locale.ROOT, "%.4f", steps.stream().mapToDouble(Step::loss).min().orElseThrow()),
            cell(dom, "stat-min-loss"));
        assertEquals(String.format(Locale.ROOT, "%.4f", last.top1()), cell(dom, "stat-last-top1"));
        assertEquals(String.format(Locale.ROOT, "%.1f", steps.stream().mapToDouble(Step::ips).average().orElseThrow()),
            cell(dom, "stat-mean-ips"));
        assertEquals(String.format(Locale.ROOT, "%.2f", steps.stream().mapToDouble(Step::stepMs).average()
            .orElseThrow()), cell(dom, "stat-mean-step-ms"));
        assertEquals(String.format(Locale.ROOT, "%.2f", steps.stream().mapToDouble(Step::commMs).average()
            .orElseThrow()), cell(dom, "stat-mean-comm-ms"));
        assertEquals("n/a", cell(dom, "stat-val-top1"), "no summary while training runs");
        assertEquals("1", cell(dom, "stat-warnings"));
        assertTrue(dom.contains("after step 19: block stage1_block1: max |activation| 150.3 &gt; 100.0"), tail(dom));
        assertTrue(dom.contains("an unfinished last line was left out"));
        assertTrue(dom.contains("12.5%"), "dead fraction of the latest check shown");
        assertEquals("1 of 3", cell(dom, "stat-events"));
        assertTrue(dom.contains("<tr class=\"warn\"><td class=\"name\">2026-11-27 14:34:20</td><td class=\"name\">"
            + "stage-failed</td><td class=\"name\">stage=0, restart=1, max_restarts=3, error=a replica failed: "
            + "java.io.IOException: No space left on device</td></tr>"), tail(dom));

        // Training finishes: the summary appears on regeneration.
        Files.writeString(dir.resolve("summary.json"), "{\"steps\":30,\"val_top1\":0.8125,\"val_top5\":1.0,"
            + "\"val_loss\":0.53125}\n");
        assertEquals(0, BatonCli.run(new String[] {"report", dir.toString()}, new PrintWriter(out),
            new PrintWriter(err)), err.toString());
        final String finished = dumpDom(page);
        assertEquals("0.8125", cell(finished, "stat-val-top1"));
        assertEquals("0.5313", cell(finished, "stat-val-loss"));
        assertEquals(n - 5 + 1, drawn(finished, "plot-top1"), "val top-1 point added");
    }

    @Test
    void shouldRefuseADirectoryThatIsNoRun()
    {
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"report", dir.resolve("nothing").toString()},
            new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(BatonCli.EXIT_USAGE, code);
        assertTrue(err.toString().contains("has no metrics.jsonl"), err.toString());
    }

    private static int drawn(final String dom, final String id)
    {
        final Matcher m = Pattern.compile("<svg[^>]*id=\"" + id + "\"[^>]*>").matcher(dom);
        assertTrue(m.find(), "svg " + id + " present");
        final Matcher d = Pattern.compile("data-drawn=\"(\\d+)\"").matcher(m.group());
        assertTrue(d.find(), "svg " + id + " was drawn: " + m.group());
        return Integer.parseInt(d.group(1));
    }

    private static String cell(final String dom, final String id)
    {
        final Matcher m = Pattern.compile("id=\"" + id + "\">([^<]*)<").matcher(dom);
        assertTrue(m.find(), "cell " + id + " present");
        return m.group(1);
    }

    private static String tail(final String dom)
    {
        return dom.substring(Math.max(0, dom.length() - 3000));
    }

    /** The DOM after the page's scripts ran, from headless Chromium. */
    static String dumpDom(final Path page) throws Exception
    {
        final String chromium = findChromium();
        final Path profile = Files.createTempDirectory("baton-chromium-");
        try
        {
            final Process process = new ProcessBuilder(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=5000", "--dump-dom",
                page.toUri().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
            final byte[] dom = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                fail("chromium did not finish within 60 s");
            }
            assertEquals(0, process.exitValue(), "chromium exit code");
            return new String(dom, StandardCharsets.UTF_8);
        }
        finally
        {
            try (var files = Files.walk(profile))
            {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String findChromium()
    {
        for (final String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome"})
        {
            if (Files.isExecutable(Path.of(candidate)))
            {
                return candidate;
            }
        }
        return fail("headless Chromium is required for the report test and was not found (/usr/bin/chromium); "
            + "install it with: apt-get install -y chromium");
    }
}
