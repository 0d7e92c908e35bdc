import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.zip.ZipFile;

/**
 * A user of an exported model with plain DL4J and no Baton class: run by PlainDl4jLoadTest with Java's single-file
 * source launcher in its own JVM (ND4J's native library loads once per JVM). Prints one line saying whether any
 * io.baton class is visible, then one line per model zip: restored with ModelSerializer and run on the input of its
 * verification sidecar (baton/verify.json), compared with the sidecar's output within its tolerances, or why it
 * failed to load.
 */
public class LoadPlain
{
    public static void main(final String[] args) throws Exception
    {
        final String[] batonClasses = {"io.baton.trainer.model.ZeroPadShortcutVertex",
            "io.baton.trainer.optim.LossSmoothedMcxent", "io.baton.trainer.syncbn.SyncBatchNorm",
            "io.baton.trainer.export.ModelExporter"};
        String visible = LoadPlain.class.getClassLoader().getResource("io/baton") != null ? "resource io/baton" : null;
        for (final String name : batonClasses)
        {
            try
            {
                Class.forName(name);
                visible = name;
            }
            catch (final ClassNotFoundException expected)
            {
                // what a class path without Baton gives
            }
        }
        System.out.println("BATON-CLASSES " + (visible == null ? "none" : "visible " + visible));
        for (final String zip : args)
        {
            try
            {
                System.out.println("LOAD " + new File(zip).getName() + " " + check(new File(zip)));
            }
            catch (final Throwable ex)
            {
                final StringBuilder causes = new StringBuilder();
                for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause())
                {
                    causes.append(causes.length() == 0 ? "" : " <- ").append(t);
                }
                System.out.println("LOAD " + new File(zip).getName() + " FAILED "
                    + causes.toString().replaceAll("\\s+", " "));
            }
        }
    }

    private static String check(final File zip) throws Exception
    {
        final ComputationGraph graph = ModelSerializer.restoreComputationGraph(zip, false);
        final JsonNode sample;
        try (ZipFile file = new ZipFile(zip); InputStream in = file.getInputStream(file.getEntry("baton/verify.json")))
        {
            sample = new ObjectMapper().readTree(in);
        }
        final long[] inputShape = longs(sample.get("input_shape"));
        final ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(sample.get("input").asText()))
            .order(ByteOrder.LITTLE_ENDIAN);
        final float[] input = new float[bytes.remaining() / Float.BYTES];
        bytes.asFloatBuffer().get(input);
        final INDArray out = graph.outputSingle(false, Nd4j.create(input, inputShape, 'c'));
        final float[] actual = out.castTo(DataType.FLOAT).dup('c').data().asFloat();
        final JsonNode expected = sample.get("output");
        final double abs = sample.get("abs_tolerance").asDouble();
        final double rel = sample.get("rel_tolerance").asDouble();
        if (actual.length != expected.size())
        {
            return "FAILED output has " + actual.length + " values, the sidecar " + expected.size();
        }
        double maxDiff = 0;
        int beyond = 0;
        for (int i = 0; i < actual.length; i++)
        {
            final double e = (float)expected.get(i).asDouble();
            final double diff = Math.abs(actual[i] - e);
            maxDiff = Math.max(maxDiff, diff);
            if (!(diff <= abs + rel * Math.abs(e)))
            {
                beyond++;
            }
        }
        return (beyond == 0 ? "OK" : "MISMATCH") + " params=" + graph.numParams() + " values=" + actual.length
            + " beyond_tolerance=" + beyond + " max_abs_diff=" + maxDiff;
    }

    private static long[] longs(final JsonNode array)
    {
        final long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
