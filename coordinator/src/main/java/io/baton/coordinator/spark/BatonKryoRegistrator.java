package io.baton.coordinator.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import io.baton.coordinator.evaluate.EvaluationReport;
import io.baton.coordinator.prepare.InputFile;
import io.baton.coordinator.prepare.PrepareSparkClasses;
import io.baton.coordinator.prepare.ShardResult;
import io.baton.coordinator.prepare.ShardTask;
import io.baton.coordinator.train.ReplicaReport;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.run.Evaluator;
import io.baton.trainer.run.TrainOutcome;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers with Spark's KryoSerializer every Baton class that travels through {@code spark.serializer}: the
 * partition data Baton parallelises (prepare's shard tasks) and the results replicas and prepare tasks return. With
 * it, Baton's jobs run under {@code spark.kryo.registrationRequired = true}, on the contexts Baton creates (which use
 * Kryo with registration required) and on a user's ({@code Baton.sparkConf} appends this class to
 * {@code spark.kryo.registrator}). Task closures (the replica bodies) go through Spark's closure serializer, which is
 * always Java serialisation. The classes are records, which Kryo 4 cannot build field by field, so each is written
 * with Java serialisation inside Kryo's stream; they are a few small objects per stage (docs/BENCHMARKS.md).
 *
 * <p>Thread-safe (stateless); Spark instantiates it by name on every JVM.
 */
public final class BatonKryoRegistrator implements KryoRegistrator
{
    static final Class<?>[] CLASSES = {
        ReplicaReport.class, TrainOutcome.Kind.class, EvaluationReport.class, Evaluator.Result.class,
        ShardTask.class, InputFile.class, ShardResult.class, Manifest.SkippedFile.class};

    static final Class<?>[] SQL_TYPES = {
        org.apache.spark.sql.types.BinaryType$.class, org.apache.spark.sql.types.BooleanType$.class,
        org.apache.spark.sql.types.FloatType$.class, org.apache.spark.sql.types.ShortType$.class,
        org.apache.spark.sql.types.ByteType$.class, org.apache.spark.sql.types.TimestampType$.class,
        org.apache.spark.sql.types.ArrayType.class, org.apache.spark.sql.types.MapType.class};

    @Override
    public void registerClasses(final Kryo kryo)
    {
        final java.util.List<Class<?>> all = new java.util.ArrayList<>(java.util.List.of(CLASSES));
        all.addAll(PrepareSparkClasses.classes());
        for (final Class<?> type : all)
        {
            kryo.register(type, new JavaSerializer());
            kryo.register(java.lang.reflect.Array.newInstance(type, 0).getClass());
        }
        // Spark SQL types that Spark's own list leaves out but a table's schema inference returns through
        // spark.serializer (Parquet footers read in parallel, e.g. baton predict on a table with a binary column);
        // Java serialisation keeps the case objects singletons (their readResolve).
        for (final Class<?> type : SQL_TYPES)
        {
            kryo.register(type, new JavaSerializer());
        }
    }
}
