package io.baton.coordinator.spark;

import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Tuple4;
import scala.collection.JavaConverters;
import scala.collection.Seq;

import java.util.List;

/**
 * A listener that sees each running task's accumulator values as they arrive: with every executor heartbeat while the
 * task runs, and once more when it ends. Baton's tasks report progress and timings through accumulators, which Spark
 * already ships with its heartbeats, so the driver needs no channel of its own.
 *
 * <p>Threading: Spark's listener bus thread calls {@link #onTaskAccumulables}; subclasses publish to other threads.
 */
public abstract class TaskAccumulatorListener extends SparkListener
{
    @Override
    public final void onExecutorMetricsUpdate(final SparkListenerExecutorMetricsUpdate update)
    {
        for (final Tuple4<Object, Object, Object, Seq<AccumulableInfo>> task
            : JavaConverters.seqAsJavaList(update.accumUpdates()))
        {
            onTaskAccumulables((Long) task._1(), JavaConverters.seqAsJavaList(task._4()));
        }
    }

    @Override
    public void onTaskEnd(final SparkListenerTaskEnd end)
    {
        onTaskAccumulables(end.taskInfo().taskId(), JavaConverters.seqAsJavaList(end.taskInfo().accumulables()));
    }

    /** A task's accumulator values, from a heartbeat (partial updates) or its end (the totals). */
    protected abstract void onTaskAccumulables(long taskId, List<AccumulableInfo> infos);
}
