package io.baton.coordinator.spark.bench;

import io.baton.coordinator.spark.BatonKryoRegistrator;
import io.baton.coordinator.train.ReplicaReport;
import io.baton.trainer.run.TrainOutcome;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.Serializer;
import org.apache.spark.serializer.SerializerInstance;
import scala.reflect.ClassTag$;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * What {@code spark.serializer} costs for Baton's task results (one ReplicaReport per replica per stage): Spark's
 * JavaSerializer against its KryoSerializer with Baton's registrator (records written with Java serialisation inside
 * Kryo) and registration required. Run:
 * {@code mvn -pl coordinator -am test-compile && java -cp ... io.baton.coordinator.spark.bench.TaskSerializationBench}
 * (bench/cluster/serialization.sh does it).
 */
public final class TaskSerializationBench
{
    private TaskSerializationBench()
    {
    }

    public static void main(final String[] args)
    {
        final ReplicaReport report = new ReplicaReport(1, 1000, 123.4, 0.5, 0.9, 0.99, 0.4, 50_000, 0x1234_5678_9abcL,
            "", TrainOutcome.Kind.COMPLETED, 1000, "");
        final SparkConf conf = new SparkConf(false).set("spark.kryo.registrationRequired", "true")
            .set("spark.kryo.registrator", BatonKryoRegistrator.class.getName());
        final int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        for (int pass = 0; pass < 3; pass++)
        {
            measure("java", new JavaSerializer(conf), report, rounds);
            measure("kryo", new KryoSerializer(conf), report, rounds);
        }
    }

    private static void measure(final String name, final Serializer serializer, final ReplicaReport report,
        final int rounds)
    {
        final SerializerInstance instance = serializer.newInstance();
        final scala.reflect.ClassTag<ReplicaReport> tag = ClassTag$.MODULE$.apply(ReplicaReport.class);
        int bytes = 0;
        final long startNs = System.nanoTime();
        for (int i = 0; i < rounds; i++)
        {
            final ByteBuffer buffer = instance.serialize(report, tag);
            bytes = buffer.remaining();
            final ReplicaReport back = instance.deserialize(buffer, tag);
            if (back.nextStep() != report.nextStep())
            {
                throw new IllegalStateException(name + " changed the report");
            }
        }
        final double usPerRound = (System.nanoTime() - startNs) / 1e3 / rounds;
        System.out.printf(Locale.ROOT, "%s: %d bytes, %.2f us per serialise + deserialise%n", name, bytes, usPerRound);
    }
}
