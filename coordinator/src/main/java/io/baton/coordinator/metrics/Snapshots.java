package io.baton.coordinator.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

/**
 * Small builders for the snapshots Baton's collectors return on each scrape (the Prometheus client's builders are
 * verbose for one data point).
 *
 * <p>Thread-safe (stateless).
 */
final class Snapshots
{
    private Snapshots()
    {
    }

    static GaugeSnapshot.GaugeDataPointSnapshot gaugePoint(final Labels labels, final double value)
    {
        return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    static GaugeSnapshot gauge(final String name, final String help, final Labels labels, final double value)
    {
        return GaugeSnapshot.builder().name(name).help(help).dataPoint(gaugePoint(labels, value)).build();
    }

    static CounterSnapshot.CounterDataPointSnapshot counterPoint(final Labels labels, final double value)
    {
        return CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    /**
     * One classic histogram data point.
     *
     * @param upperBounds finite upper bounds, ascending (+Inf is added).
     * @param counts      per-bucket (not cumulative) counts, one more than the bounds (the last is above them).
     */
    static HistogramSnapshot.HistogramDataPointSnapshot histogramPoint(final Labels labels, final double[] upperBounds,
        final long[] counts, final double sum)
    {
        final double[] bounds = new double[upperBounds.length + 1];
        System.arraycopy(upperBounds, 0, bounds, 0, upperBounds.length);
        bounds[upperBounds.length] = Double.POSITIVE_INFINITY;
        return HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(labels)
            .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts)).sum(sum).build();
    }
}
