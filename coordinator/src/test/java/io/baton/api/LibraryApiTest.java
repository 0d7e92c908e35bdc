package io.baton.api;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The library API on a Spark context the test owns (as a user's program owns its own): a graph Baton did not build
 * trains with 2 replicas, equal per element to 1 replica with the whole batch; a failed stage resumes bit-identically;
 * the caller's context is neither stopped nor reconfigured; and models Baton cannot train exactly are refused in one
 * line before any stage starts.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LibraryApiTest
{
    /** Per element, absolute: what issue 19 asks of 2 x B against 1 x 2B for a foreign graph. */
    private static final double INVARIANCE_TOLERANCE = 1e-4;

    private JavaSparkContext sc;
    private String confBefore;
    /** One folder for the class: the runs share it (the 2-replica run is the baseline of several tests). */
    @TempDir
    static Path work;
    private TrainResult twoReplicas;

    @BeforeAll
    void startUsersContext()
    {
        sc = new JavaSparkContext(Baton.sparkConf(new SparkConf().setMaster("local[2]").setAppName("user-program")
            .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.enabled", "false")
            // A strict user: Kryo with every class registered; Baton's results must be registered too.
            .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
            .set("spark.kryo.registrationRequired", "true")));
        confBefore = sc.getConf().toDebugString();
    }

    @AfterAll
    void stopUsersContext()
    {
        sc.stop();
    }

    static Settings settings(final Path run, final String... overrides)
    {
        Settings s = Settings.defaults()
            .set("data.image-size", 16).set("data.synthetic-classes", 4).set("data.synthetic-samples", 32)
            .set("data.synthetic-val-samples", 8).globalBatch(8).replicas(2).epochs(2)
            .set("optim.base-lr", 0.05).set("optim.base-batch", 8).set("optim.warmup-epochs", 0.5)
            .set("optim.decay-epochs", List.of(1)).set("collective.host", "127.0.0.1").set("collective.timeout", "8s")
            .set("checkpoint.every", 3).set("checkpoint.keep-last", 10).set("progress.interval", "60s")
            .set("cluster.slot-wait", "0s").set("recovery.backoff", "0s").runDir(run.toString());
        for (final String kv : overrides)
        {
            final int eq = kv.indexOf('=');
            s = s.set(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return s;
    }

    private TrainResult train(final Model model, final Settings settings)
    {
        return Baton.on(sc).progressTo(new PrintWriter(new StringWriter())).train(model, settings);
    }

    private synchronized TrainResult twoReplicas()
    {
        if (twoReplicas == null)
        {
            twoReplicas = train(Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("two")));
        }
        return twoReplicas;
    }

    @Test
    void foreignGraphWithTwoReplicasEqualsOneReplicaWithTheWholeBatchPerElement()
    {
        final TrainResult two = twoReplicas();
        final TrainResult one = train(Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("one"),
            "train.replicas=1"));
        assertEquals(8, two.steps());
        assertEquals(8, two.valSamples(), "every validation sample scored once");
        final float[] a = params(two.model());
        final float[] b = params(one.model());
        assertEquals(a.length, b.length);
        final double distance = maxAbsDifference(a, b);
        assertTrue(distance <= INVARIANCE_TOLERANCE, "2 x 4 vs 1 x 8: max per-element difference " + distance);
        assertFalse(Arrays.equals(a, params(Model.of(UserCnn.configuration(16, 4)).graph())), "it trained");

        // Negative control: a 1 % learning-rate change is far outside that tolerance.
        final TrainResult other = train(Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("lr"),
            "train.replicas=1", "optim.base-lr=0.0505"));
        final double lrDistance = maxAbsDifference(b, params(other.model()));
        assertTrue(lrDistance > 10 * INVARIANCE_TOLERANCE, "a 1 % learning-rate change moved the parameters by "
            + lrDistance + " at most");

        // The trained model is plain DL4J (inference form) with the user's own layer names.
        assertTrue(two.model().getConfiguration().toJson().contains("\"norm-h\""));
        assertFalse(two.model().getConfiguration().toJson().contains("io.baton."), "no Baton class in the result");
    }

    @Test
    void theCallersContextIsStillUsableAndUnchangedAfterTraining()
    {
        twoReplicas();
        assertFalse(sc.sc().isStopped());
        assertEquals(10, sc.parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 2).count());
        assertEquals(confBefore, sc.getConf().toDebugString(), "Baton changed the caller's configuration");
        assertEquals(null, sc.getLocalProperty("spark.job.description"));
    }

    @Test
    void resumeAfterAnInjectedFailureIsBitIdentical() throws Exception
    {
        final TrainResult plain = twoReplicas();
        final StringWriter log = new StringWriter();
        final List<String> descriptions = new java.util.concurrent.CopyOnWriteArrayList<>();
        final SparkListener jobs = new SparkListener()
        {
            @Override
            public void onJobStart(final SparkListenerJobStart start)
            {
                descriptions.add(start.properties().getProperty("spark.jobGroup.id") + ": "
                    + start.properties().getProperty("spark.job.description"));
            }
        };
        sc.sc().addSparkListener(jobs);
        final TrainResult failed;
        try
        {
            failed = Baton.on(sc).progressTo(new PrintWriter(log, true)).train(
                Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("failed"), "debug.fail-at-step=7",
                    "recovery.max-restarts=1"));
        }
        finally
        {
            sc.sc().removeSparkListener(jobs);
        }
        assertTrue(log.toString().contains("restart 1 of 1"), log.toString());
        assertTrue(log.toString().contains("from step 6 ("), "resumed from the step-6 checkpoint:\n" + log);
        // The Spark UI tells the two stages apart (each job's start was posted seconds before training ended).
        assertTrue(descriptions.contains("baton-train-baton-job: baton train job=baton-job stage 0: replicas 0-1, "
            + "steps 0-7 of 8"), descriptions.toString());
        assertTrue(descriptions.stream().anyMatch(d -> d.startsWith("baton-train-baton-job: baton train job=baton-job "
            + "stage 1: replicas 0-1, steps 6-7 of 8 (resumed from checkpoint step ")), descriptions.toString());
        assertEquals(plain.paramsChecksum(), failed.paramsChecksum());
        assertTrue(Arrays.equals(params(plain.model()), params(failed.model())), "bit-identical parameters");

        // The same call on the completed run trains nothing and returns the same model.
        final TrainResult again = train(Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("failed")));
        assertEquals(0, again.stepsThisCall());
        assertTrue(Arrays.equals(params(plain.model()), params(again.model())));
    }

    @Test
    void aResumeWithAnotherModelIsRefused()
    {
        twoReplicas();
        final Path run = work.resolve("two");
        final ComputationGraph other = new ComputationGraph(UserCnn.configuration(16, 4));
        other.init();
        other.params().muli(0.5);
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> train(Model.of(other), settings(run)));
        assertTrue(refused.getMessage().contains("model.graph-identity"), refused.getMessage());
    }

    @Test
    void modelsBatonCannotTrainExactlyAreRefusedInOneLineBeforeAnyStage()
    {
        final Path run = work.resolve("refused");
        assertRefused(UserCnn.configuration(16, 4, DataType.FLOAT, Activation.IDENTITY,
            LossFunctions.LossFunction.MSE, 3), run, "output layer 'classes' has loss");
        assertRefused(UserCnn.configuration(16, 4, DataType.DOUBLE, Activation.SOFTMAX,
            LossFunctions.LossFunction.MCXENT, 3), run, "parameters are DOUBLE");
        assertRefused(UserCnn.configuration(16, 4, DataType.FLOAT, Activation.SOFTMAX,
            LossFunctions.LossFunction.MCXENT, 1), run, "does not accept the data's images [channels, height, width] "
            + "= [3, 16, 16]");
        assertRefused(UserCnn.configuration(16, 7), run, "output layer 'classes' has 7 outputs but the data has 4");
        assertFalse(Files.exists(run.resolve("checkpoints")), "nothing trained");
        assertFalse(Files.exists(run.resolve("metrics.jsonl")), "nothing trained");
    }

    @Test
    void aContextWithTooFewSlotsIsRefusedNamingTheSetting()
    {
        final IllegalStateException refused = assertThrows(IllegalStateException.class,
            () -> train(Model.of(UserCnn.configuration(16, 4)), settings(work.resolve("slots"), "train.replicas=4")));
        assertTrue(refused.getMessage().contains("cannot run 4 replicas at once") && refused.getMessage().contains(
            "2 task slot(s)"), refused.getMessage());
        assertFalse(Files.exists(work.resolve("slots").resolve("checkpoints")));
    }

    @Test
    void aMasterOtherThanTheContextsIsRefused()
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> train(Model.zoo("resnet20"), settings(work.resolve("master"), "cluster.master=local[4]")));
        assertTrue(refused.getMessage().startsWith("cluster.master = local[4] but the given Spark context runs on "
            + "local[2]"), refused.getMessage());
    }

    @Test
    void aContextWithDynamicAllocationIsRefusedNamingTheSetting()
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> Baton.requireBarrierCapable(new SparkConf().set("spark.dynamicAllocation.enabled", "true")));
        assertTrue(refused.getMessage().startsWith("spark.dynamicAllocation.enabled = true: "), refused.getMessage());
        Baton.requireBarrierCapable(new SparkConf().set("spark.dynamicAllocation.enabled", "false"));
    }

    @Test
    void evaluateAndExportRunOnTheSameApiAndAgreeWithTraining(@TempDir final Path out)
    {
        final TrainResult trained = twoReplicas();
        final Baton baton = Baton.on(sc).progressTo(new PrintWriter(new StringWriter()));
        final io.baton.trainer.run.Evaluator.Result evaluated = baton.evaluate(work.resolve("two").toString(),
            Settings.defaults().set("collective.host", "127.0.0.1"));
        assertEquals(trained.valSamples(), evaluated.samples());
        assertEquals(trained.valTop1(), evaluated.top1(), 1e-9);
        final Path zip = out.resolve("exported.zip");
        baton.export(work.resolve("two").toString(), zip, false);
        assertTrue(Files.isRegularFile(zip));
        assertTrue(baton.report(work.resolve("two").toString(), null).endsWith("report.html"));
    }

    private void assertRefused(final org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf, final Path run,
        final String expected)
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> train(Model.of(conf), settings(run)));
        assertTrue(refused.getMessage().contains(expected), refused.getMessage());
        assertFalse(refused.getMessage().contains("\n"), "one line: " + refused.getMessage());
    }

    static float[] params(final ComputationGraph graph)
    {
        return graph.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    static double maxAbsDifference(final float[] a, final float[] b)
    {
        double max = 0;
        for (int i = 0; i < a.length; i++)
        {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }
}
