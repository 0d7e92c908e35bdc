package io.baton.api;

import io.baton.coordinator.spark.LocalCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Dl4jSparkProgram} in its own driver JVM on a Spark local-cluster with two executor JVMs: DL4J's
 * SparkComputationGraph with BatonTrainingMaster (2 replicas x 4) reaches the parameters of Baton's own path on the
 * same staged data (1 replica x 8) per element to 1e-4, a 1 % learning-rate change moves them by far more, and DL4J's
 * evaluate on the trained network agrees with Baton's own evaluation of the same examples, and a DL4J listener saw each
 * of the 8 steps.
 */
@Tag("slow")
class Dl4jSparkProgramTest
{
    /** Per element, absolute: the invariance tolerance of LibraryApiTest (2 x B against 1 x 2B). */
    private static final double TOLERANCE = 1e-4;

    @Test
    void dl4jSparkProgramWithBatonTrainingMasterEqualsBatonsOwnPathOnTwoExecutorJvms(@TempDir final Path work)
        throws Exception
    {
        final Path log = work.resolve("program.log");
        final Process process = LocalCluster.java(work, Dl4jSparkProgram.class.getName(),
            LocalCluster.master(2, 1536), work.toString()).redirectOutput(log.toFile()).start();
        if (!process.waitFor(8, TimeUnit.MINUTES))
        {
            process.destroyForcibly();
            throw new AssertionError("the program did not finish in 8 minutes:\n" + Files.readString(log));
        }
        final String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("staged 32 examples of shape [3, 16, 16], 4 classes"), output);
        assertTrue(output.contains("training on local-cluster[2,1,1536]: 2 replicas"), output);

        final Matcher eval = Pattern.compile("EVAL accuracy=(\\S+) examples=(\\d+) batonTop1=(\\S+) steps=(\\d+) "
            + "score=(\\S+)").matcher(output);
        assertTrue(eval.find(), output);
        assertEquals(32, Integer.parseInt(eval.group(2)), "DL4J's evaluate scored every example once");
        assertEquals(8, Integer.parseInt(eval.group(4)), "2 epochs of 4 steps");
        // The same parameters and the same examples: DL4J's evaluate agrees with Baton's evaluation of them.
        assertEquals(Double.parseDouble(eval.group(3)), Double.parseDouble(eval.group(1)), 1.0 / 32 + 1e-9, output);
        assertTrue(Double.isFinite(Double.parseDouble(eval.group(5))), "getScore() is the last step's loss");
        final Matcher listener = Pattern.compile("LISTENER iterations=(\\d+) lastScore=(\\S+)").matcher(output);
        assertTrue(listener.find(), output);
        assertEquals(8, Integer.parseInt(listener.group(1)), "a DL4J listener saw every Baton step");
        assertEquals(Double.parseDouble(eval.group(5)), Double.parseDouble(listener.group(2)), 0.0,
            "the listener's last score is the last step's loss");

        final Matcher diff = Pattern.compile("DIFF (\\S+) LRDIFF (\\S+) TRAINED (\\S+)").matcher(output);
        assertTrue(diff.find(), output);
        System.out.println(eval.group() + "\n" + diff.group());
        final double distance = Double.parseDouble(diff.group(1));
        final double lrDistance = Double.parseDouble(diff.group(2));
        assertTrue(Boolean.parseBoolean(diff.group(3)), "getNetwork() holds trained parameters");
        assertTrue(distance <= TOLERANCE, "drop-in (2 x 4) vs Baton's path (1 x 8): max per-element difference "
            + distance);
        assertTrue(lrDistance > 10 * TOLERANCE, "a 1 % learning-rate change moved the parameters by " + lrDistance
            + " only");
    }
}
