package io.baton.coordinator.metrics;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.OpsKeys;
import io.baton.coordinator.train.RunDirectory;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * What {@code baton train}'s driver exports to Prometheus ({@code metrics.port}): the job-wide values of the run's
 * files ({@link RunFileCollector}), every replica's timings through a Spark accumulator ({@link ReplicaCollector}),
 * the driver's own counts of relaunches, rollbacks and elastic changes, the current world size, and the driver JVM's
 * metrics. With {@code metrics.port = -1} nothing is served and no accumulator is registered; the counting methods
 * still work (and cost nothing to speak of).
 *
 * <p>Threading: the driver's thread; the counters are thread-safe. {@link #close()} is idempotent.
 */
public final class TrainMetrics implements AutoCloseable
{
    private final String jobName;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusEndpoint endpoint;
    private final Counter relaunches;
    private final Counter rollbacks;
    private final Counter elasticChanges;
    private final Gauge replicas;
    private JavaSparkContext sc;
    private ReplicaCollector replicaCollector;
    private ReplicaTimingsAccumulator accumulator;

    private TrainMetrics(final BatonConfig config, final RunDirectory run, final boolean serve)
    {
        jobName = config.get(CommonKeys.JOB_NAME);
        relaunches = Counter.builder().name("baton_stage_relaunches").help("Failed barrier stages relaunched from "
            + "the newest checkpoint by this driver.").labelNames("job_name").register(registry);
        rollbacks = Counter.builder().name("baton_nonfinite_rollbacks").help("Non-finite steps rolled back to the "
            + "newest checkpoint with a lower learning rate by this driver.").labelNames("job_name").register(registry);
        elasticChanges = Counter.builder().name("baton_elastic_stages").help("Stages this driver launched with "
            + "fewer replicas than configured (elastic.min-replicas), because fewer task slots came back.").labelNames("job_name")
            .register(registry);
        replicas = Gauge.builder().name("baton_replicas").help("Replicas (world size) of the stage running now.")
            .labelNames("job_name").register(registry);
        relaunches.labelValues(jobName);
        rollbacks.labelValues(jobName);
        elasticChanges.labelValues(jobName);
        if (serve)
        {
            registry.register(new RunFileCollector(run, jobName));
            JvmMetrics.builder().register(registry);
            endpoint = new PrometheusEndpoint(registry, config.get(OpsKeys.METRICS_BIND_ADDRESS),
                config.get(OpsKeys.METRICS_PORT));
        }
        else
        {
            endpoint = null;
        }
    }

    /**
     * Starts the endpoint when {@code metrics.port} is not -1 (before Spark starts, so a port in use is refused
     * first).
     *
     * @throws IllegalArgumentException naming the keys when the port cannot be bound.
     */
    public static TrainMetrics start(final BatonConfig config, final RunDirectory run)
    {
        return new TrainMetrics(config, run, config.get(OpsKeys.METRICS_PORT) >= 0);
    }

    /** Registers the replicas' accumulator and its listener on the job's Spark context (when serving). */
    public synchronized void attach(final JavaSparkContext context)
    {
        if (endpoint == null || accumulator != null)
        {
            return;
        }
        sc = context;
        accumulator = new ReplicaTimingsAccumulator();
        context.sc().register(accumulator, ReplicaTimingsAccumulator.NAME);
        replicaCollector = new ReplicaCollector(accumulator.id(), jobName);
        context.sc().addSparkListener(replicaCollector);
        registry.register(replicaCollector);
    }

    /** The accumulator replica tasks record into; null when not serving. */
    public ReplicaTimingsAccumulator accumulator()
    {
        return accumulator;
    }

    /** The scrape URL, or null when not serving. */
    public String url()
    {
        return endpoint == null ? null : endpoint.url();
    }

    /** The endpoint's port, or -1 when not serving. */
    public int port()
    {
        return endpoint == null ? -1 : endpoint.port();
    }

    public void onStageRelaunch()
    {
        relaunches.labelValues(jobName).inc();
    }

    public void onNonFiniteRollback()
    {
        rollbacks.labelValues(jobName).inc();
    }

    /** A stage launched with fewer replicas than configured. */
    public void onElasticStage()
    {
        elasticChanges.labelValues(jobName).inc();
    }

    /** A stage starts with {@code worldSize} replicas. */
    public void onStage(final int worldSize)
    {
        replicas.labelValues(jobName).set(worldSize);
    }

    /** The registry served (for tests). */
    PrometheusRegistry registry()
    {
        return registry;
    }

    /**
     * Stops listening to the Spark context (before it is stopped, or when it is the caller's and stays); the replicas'
     * last values are still served until {@link #close()}. Idempotent.
     */
    public synchronized void detach()
    {
        if (sc != null && replicaCollector != null)
        {
            sc.sc().removeSparkListener(replicaCollector);
        }
        sc = null;
    }

    @Override
    public synchronized void close()
    {
        detach();
        if (endpoint != null)
        {
            endpoint.close();
        }
    }
}
