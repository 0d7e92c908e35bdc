package io.baton.coordinator.report;

import com.fasterxml.jackson.databind.JsonNode;
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
        return writeRun(dir, EPOCHS * STEPS_PER_EPOCH);
    }

    /** {@code count} metrics lines and an unfinished one, two health checks, three run events. */
    private static List<Step> writeRun(final Path dir, final int count) throws IOException
    {
        Files.createDirectories(dir);
        final List<Step> steps = new ArrayList<>();
        final StringBuilder metrics = new StringBuilder();
        for (int s = 0; s < count; s++)
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
        metrics.append("{\"step\":" + count + ",\"epoch\":3,\"step_in_ep");
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
        assertTrue(out.toString().contains("note: " + dir.getFileName() + ": the unfinished last line of metrics.jsonl "
            + "was left out (training is still writing it, or the file was cut short)"), out.toString());
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
        assertTrue(Pattern.compile("<div id=\"plot-loss\"[^>]*><div class=\"uplot").matcher(dom).find(),
            "the loss chart is a uPlot chart:\n" + tail(dom));
        assertTrue(dom.contains("<canvas"), "uPlot draws on a canvas");
        assertTrue(dom.contains(">images/s</"), "axes are labelled with their units");

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
        assertTrue(dom.contains("the unfinished last line of metrics.jsonl was left out"), tail(dom));
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
    void shouldShowTheValueOfTheHoveredStepZoomOnADraggedRangeAndToggleALogScale() throws Exception
    {
        final List<Step> steps = writeRun();
        assertEquals(0, BatonCli.run(new String[] {"report", dir.toString()}, new PrintWriter(new StringWriter()),
            new PrintWriter(new StringWriter())));
        try (DevToolsPage page = DevToolsPage.open(findChromium(), dir.resolve("report.html")))
        {
            // The mouse moves over step 17 of the loss chart: the legend reads that step and its loss.
            final double[] at = where(page, "plot-loss", 17);
            page.mouse("mouseMoved", at[0], at[1]);
            final JsonNode legend = page.evaluate("Array.from(batonCharts['plot-loss'].root"
                + ".querySelectorAll('.u-legend .u-value')).map(function (e) { return e.textContent; })");
            assertEquals("17", legend.get(0).asText(), "the step under the mouse: " + legend);
            assertEquals(readout(steps.get(17).loss()), legend.get(1).asText(), "the loss of step 17: " + legend);
            // The cursor follows on the other step charts: the learning rate of the same step.
            final JsonNode lr = page.evaluate("batonCharts['plot-lr'].root.querySelectorAll('.u-legend .u-value')[1]"
                + ".textContent");
            assertEquals(readout(steps.get(17).lr()), lr.asText());

            // A drag from step 5 to step 15 zooms every step chart on that range.
            final double[] from = where(page, "plot-loss", 5);
            final double[] to = where(page, "plot-loss", 15);
            page.mouse("mouseMoved", from[0], from[1]);
            page.mouse("mousePressed", from[0], from[1]);
            page.mouse("mouseMoved", (from[0] + to[0]) / 2, from[1]);
            page.mouse("mouseMoved", to[0], to[1]);
            page.mouse("mouseReleased", to[0], to[1]);
            for (final String chart : List.of("plot-loss", "plot-time"))
            {
                final JsonNode x = page.evaluate("[batonCharts['" + chart + "'].scales.x.min, batonCharts['" + chart
                    + "'].scales.x.max]");
                assertEquals(5, x.get(0).asDouble(), 0.5, chart + " zoomed from step 5: " + x);
                assertEquals(15, x.get(1).asDouble(), 0.5, chart + " zoomed to step 15: " + x);
            }

            // The loss chart's log scale.
            assertEquals(1, page.evaluate("batonCharts['plot-loss'].scales.y.distr").asInt());
            page.evaluate("document.getElementById('plot-loss-log').click()");
            assertEquals(3, page.evaluate("batonCharts['plot-loss'].scales.y.distr").asInt(), "log scale");
        }
    }

    @Test
    void shouldOverlayRunsOfDifferentLengthsOneSeriesPerRun() throws Exception
    {
        final Path lastWeek = dir.resolve("2026-w47");
        final Path thisWeek = dir.resolve("2026-w48");
        final List<Step> a = writeRun(lastWeek, 30);
        final List<Step> b = writeRun(thisWeek, 45);
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        assertEquals(0, BatonCli.run(new String[] {"report", thisWeek.toString(), lastWeek.toString()},
            new PrintWriter(out), new PrintWriter(err)), err.toString());
        assertTrue(out.toString().contains("note: the runs cover different steps (2026-w48 steps 0-44 (45 lines); "
            + "2026-w47 steps 0-29 (30 lines))"), out.toString());
        final Path page = thisWeek.resolve("report-compare.html");
        assertTrue(out.toString().contains(page.toString()), "written beside the first run's files: " + out);

        final String dom = dumpDom(page);
        assertTrue(dom.contains("data-report-ready=\"true\""), tail(dom));
        assertEquals(a.size() + b.size(), drawn(dom, "plot-loss"), "both runs' losses");
        assertTrue(dom.contains(">2026-w48: loss<") && dom.contains(">2026-w47: loss<"), "one series per run, named");
        assertEquals("45", cell(dom, "stat-steps"));
        assertEquals("30", cell(dom, "stat-steps-1"));
        assertEquals(String.format(Locale.ROOT, "%.4f", a.get(a.size() - 1).loss()), cell(dom, "stat-last-loss-1"));
        assertTrue(dom.contains("Baton run report: 2026-w48 vs 2026-w47"));
    }

    @Test
    void shouldRefuseInOneLineWhenOneOfTheRunsIsNoRun() throws Exception
    {
        writeRun();
        final StringWriter err = new StringWriter();
        final int code = BatonCli.run(new String[] {"report", dir.toString(), dir.resolve("typo").toString()},
            new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(BatonCli.EXIT_USAGE, code);
        assertTrue(err.toString().contains("typo") && err.toString().contains(" has no metrics.jsonl and no "
            + "summary.json: not a Baton run directory"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), "one line, no stack trace: " + err);
    }

    /** Page coordinates of {@code step}'s point on a chart (its first series). */
    private static double[] where(final DevToolsPage page, final String chart, final long step) throws Exception
    {
        final JsonNode xy = page.evaluate("(function () { var u = batonCharts['" + chart + "'];"
            + " var r = u.over.getBoundingClientRect(); var i = u.data[0].indexOf(" + step + ");"
            + " return [r.left + u.valToPos(" + step + ", 'x'), r.top + u.valToPos(u.data[1][i], 'y')]; })()");
        return new double[] {xy.get(0).asDouble(), xy.get(1).asDouble()};
    }

    /** What the legend shows for a value: six significant digits, printed as JavaScript prints a number. */
    private static String readout(final double v)
    {
        final java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(6))
            .stripTrailingZeros();
        return d.scale() <= 0 ? d.toBigInteger().toString() : d.toPlainString();
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
        final Matcher m = Pattern.compile("<div[^>]*id=\"" + id + "\"[^>]*>").matcher(dom);
        assertTrue(m.find(), "chart " + id + " present");
        final Matcher d = Pattern.compile("data-points=\"(\\d+)\"").matcher(m.group());
        assertTrue(d.find(), "chart " + id + " was drawn: " + m.group());
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

    static String findChromium()
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
