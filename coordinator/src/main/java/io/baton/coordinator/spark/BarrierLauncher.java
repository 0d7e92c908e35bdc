package io.baton.coordinator.spark;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.collection.Iterator;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Runs one gang-scheduled Spark stage of N tasks, one per replica, in barrier mode: all start together or none
 * does, and a failed task fails the whole stage. Returns each replica's result in rank order. The job and its stage
 * carry the {@link SparkJobLabel} in the Spark UI.
 *
 * <p>Threading: call from the driver's thread; blocks until the stage ends.
 */
public final class BarrierLauncher
{
    private BarrierLauncher()
    {
    }

    public static <R extends Serializable> List<R> run(
        final JavaSparkContext sc, final int replicas, final SparkJobLabel label, final ReplicaBody<R> body)
    {
        final List<Integer> ranks = new ArrayList<>();
        IntStream.range(0, replicas).forEach(ranks::add);
        final JavaRDD<Integer> seeds = sc.parallelize(ranks, replicas);
        final ClassTag<Object> tag = ClassTag$.MODULE$.apply(Object.class);
        // The caller's context may be a user's: its thread's job group and description are put back afterwards.
        try (SparkJobLabel.Scope ignored = label.apply(sc))
        {
            final RDD<Object> results = seeds.rdd().barrier().mapPartitions(new RunReplica<>(replicas, body), false,
                tag);
            final List<Object> collected = results.toJavaRDD().collect();
            final List<R> out = new ArrayList<>(collected.size());
            for (final Object o : collected)
            {
                @SuppressWarnings("unchecked") final R r = (R) o;
                out.add(r);
            }
            return out;
        }
    }

    /** The barrier task body: wraps the replica's result in a one-element iterator. */
    private static final class RunReplica<R extends Serializable>
        extends AbstractFunction1<Iterator<Integer>, Iterator<Object>> implements Serializable
    {
        private static final long serialVersionUID = 1L;

        private final int replicas;
        private final ReplicaBody<R> body;

        RunReplica(final int replicas, final ReplicaBody<R> body)
        {
            this.replicas = replicas;
            this.body = body;
        }

        @Override
        public Iterator<Object> apply(final Iterator<Integer> ignored)
        {
            final BarrierTaskContext task = BarrierTaskContext.get();
            final R result;
            try
            {
                result = body.run(new ReplicaContext(task, replicas));
            }
            catch (final RuntimeException ex)
            {
                throw ex;
            }
            catch (final Exception ex)
            {
                throw new IllegalStateException("replica " + task.partitionId() + " failed: " + ex, ex);
            }
            return JavaConverters.asScalaIteratorConverter(List.<Object>of(result).iterator()).asScala();
        }
    }
}
