package io.baton.coordinator.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import io.baton.coordinator.report.JsonLines;
import io.baton.coordinator.train.RunDirectory;
import io.baton.coordinator.train.StepSegments;
import io.baton.trainer.run.RunJson;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The job-wide values of the newest complete lines of the run's {@code metrics.jsonl} (written by rank 0: loss,
 * learning rate, step, epoch, images/s, gradient norm; global-batch values, equal on every replica) and
 * {@code health.jsonl} (per block and stage), read on each scrape (only the files' tails), so the endpoint needs no
 * hook into the training loop and shows exactly what the files hold.
 *
 * <p>A file that cannot be read is not served as empty: {@code baton_run_file_up{file}} is 0 for that scrape, its
 * series are left out (not stale values), and the error is logged (once until the file reads again). A file that
 * does not exist yet, or that vanishes between listing and reading (a relaunched stage cutting it), is simply not
 * there yet: up is 1.
 *
 * <p>Threading: the endpoint's serving thread; {@link #collect()} is synchronized.
 */
public final class RunFileCollector implements MultiCollector
{
    /** Bytes read from the end of a JSON-lines file to find its last complete line. */
    static final int TAIL_BYTES = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(RunFileCollector.class);

    /** metrics.jsonl field, metric name, help. */
    private static final String[][] STEP_GAUGES = {
        {"step", "baton_step", "Global step (0-based) of the newest line of metrics.jsonl."},
        {"epoch", "baton_epoch", "Epoch (0-based) of the newest step."},
        {"lr", "baton_learning_rate", "Learning rate applied at the newest step."},
        {"loss", "baton_loss", "Mean training loss over the global batch of the newest step."},
        {"top1", "baton_batch_top1_ratio", "Top-1 accuracy of the newest global batch (NaN when not measured)."},
        {"images_per_sec", "baton_images_per_second", "Global images per second over the newest step."},
        {"grad_norm", "baton_grad_norm", "L2 norm of the averaged gradient of the newest step."},
    };

    private final RunDirectory run;
    private final String jobName;
    private final Labels job;
    private final Map<String, String> lastError = new java.util.HashMap<>();

    public RunFileCollector(final RunDirectory run, final String jobName)
    {
        this.run = run;
        this.jobName = jobName;
        this.job = Labels.of("job_name", jobName);
    }

    @Override
    public synchronized MetricSnapshots collect()
    {
        final List<MetricSnapshot> out = new ArrayList<>();
        final GaugeSnapshot.Builder up = GaugeSnapshot.builder().name("baton_run_file_up")
            .help("1 when the run file was read (or does not exist yet) at this scrape, 0 when reading it failed "
                + "(the error is in the driver's log); its series are missing then.");
        final Read metrics = lastLine(RunDirectory.METRICS);
        final Read health = lastLine(RunDirectory.HEALTH);
        up.dataPoint(Snapshots.gaugePoint(fileLabels(RunDirectory.METRICS), metrics.ok() ? 1 : 0));
        up.dataPoint(Snapshots.gaugePoint(fileLabels(RunDirectory.HEALTH), health.ok() ? 1 : 0));
        out.add(up.build());
        if (metrics.line() != null)
        {
            for (final String[] g : STEP_GAUGES)
            {
                final JsonNode v = metrics.line().get(g[0]);
                if (v != null)
                {
                    out.add(Snapshots.gauge(g[1], g[2], job, number(v)));
                }
            }
        }
        if (health.line() != null)
        {
            healthGauges(health.line(), out);
        }
        return new MetricSnapshots(out);
    }

    private Labels fileLabels(final String file)
    {
        return Labels.of("file", file, "job_name", jobName);
    }

    private void healthGauges(final JsonNode health, final List<MetricSnapshot> out)
    {
        out.add(Snapshots.gauge("baton_health_step", "Step after which the newest health check ran.", job,
            number(health.path("step"))));
        out.add(Snapshots.gauge("baton_health_warnings", "Warnings of the newest health check.", job,
            health.path("warnings").size()));
        out.add(perBlock(health, "baton_health_max_activation", "Max |activation| at each residual block's output.",
            "max_activation"));
        out.add(perBlock(health, "baton_health_dead_channels_ratio", "Fraction of each block's ReLU output "
            + "channels that are zero for every example and position.", "dead_fraction"));
        final GaugeSnapshot.Builder grad = GaugeSnapshot.builder().name("baton_health_grad_norm")
            .help("Gradient L2 norm of each stage at the newest health check.");
        final Iterator<Map.Entry<String, JsonNode>> stages = health.path("grad_norm").fields();
        while (stages.hasNext())
        {
            final Map.Entry<String, JsonNode> stage = stages.next();
            grad.dataPoint(Snapshots.gaugePoint(Labels.of("job_name", jobName, "stage", stage.getKey()),
                number(stage.getValue())));
        }
        out.add(grad.build());
    }

    private GaugeSnapshot perBlock(final JsonNode health, final String name, final String help, final String field)
    {
        final GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(name).help(help);
        for (final JsonNode row : health.path("blocks"))
        {
            gauge.dataPoint(Snapshots.gaugePoint(Labels.of("block", row.path("block").asText(), "job_name", jobName),
                number(row.path(field))));
        }
        return gauge.build();
    }

    /** A file's newest complete line (null when there is none yet), or that it could not be read. */
    record Read(boolean ok, JsonNode line)
    {
    }

    private Read lastLine(final String name)
    {
        final Path file = run.path(name);
        try
        {
            final Read read = new Read(true, newest(name, file));
            if (lastError.remove(name) != null)
            {
                LOG.info("Prometheus endpoint: {} reads again", file);
            }
            return read;
        }
        catch (final IOException | RuntimeException ex)
        {
            final String error = ex.toString();
            if (!error.equals(lastError.put(name, error)))
            {
                LOG.warn("Prometheus endpoint: cannot read {} ({}); baton_run_file_up{{file=\"{}\"}} is 0 until it "
                    + "reads again", file, error, name);
            }
            return new Read(false, null);
        }
    }

    /** The newest complete line: of the step segments on a store without append, else of the file's tail. */
    private JsonNode newest(final String name, final Path file) throws IOException
    {
        if (run.exists(StepSegments.directoryName(name)))
        {
            final String line = StepSegments.lastLine(run, name, Set.of());
            return line == null ? null : JsonLines.parse(line + "\n").last();
        }
        return tail(run.fileSystem(), file);
    }

    private static JsonNode tail(final FileSystem fs, final Path file) throws IOException
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return tailOnce(fs, file);
            }
            catch (final EOFException ex)
            {
                // Cut shorter between the listing and the read (a relaunched stage cutting the lines after its
                // checkpoint): read the new file.
                if (attempt == 3)
                {
                    throw ex;
                }
            }
        }
    }

    private static JsonNode tailOnce(final FileSystem fs, final Path file) throws IOException
    {
        final FileStatus status;
        try
        {
            status = fs.getFileStatus(file);
        }
        catch (final FileNotFoundException ex)
        {
            return null;
        }
        if (status.isDirectory())
        {
            throw new IOException(file + " is a directory");
        }
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
        catch (final FileNotFoundException ex)
        {
            // Replaced between the listing and the open (a relaunched stage rewrites it beside and renames it over).
            return null;
        }
    }

    static double number(final JsonNode v)
    {
        return RunJson.number(v);
    }
}
