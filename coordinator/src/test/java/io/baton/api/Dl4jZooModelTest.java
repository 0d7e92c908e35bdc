package io.baton.api;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.model.ResNet50;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph from DL4J's own model zoo (deeplearning4j-zoo's ResNet50: its own layer names, ZeroPaddingLayer,
 * ActivationLayers, RmsProp with L1/L2) trains through the library API with 2 replicas and SyncBatchNorm: a graph
 * Baton did not build.
 */
@Tag("slow")
class Dl4jZooModelTest
{
    @Test
    void dl4jZooResNet50TrainsThroughTheApi(@TempDir final Path work)
    {
        // 160x160 is about the smallest input its last 3x3 max-pool accepts.
        final ComputationGraph zoo = ResNet50.builder().numClasses(4).inputShape(new int[] {3, 160, 160}).build()
            .init();
        final float[] initial = LibraryApiTest.params(zoo);
        final JavaSparkContext sc = new JavaSparkContext(Baton.sparkConf(new SparkConf().setMaster("local[2]")
            .setAppName("zoo").set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.enabled", "false")));
        try
        {
            final StringWriter log = new StringWriter();
            final TrainResult result = Baton.on(sc).progressTo(new PrintWriter(log, true)).train(Model.of(zoo),
                Settings.defaults().set("data.image-size", 160).set("data.synthetic-classes", 4)
                    .set("data.synthetic-samples", 4).set("data.synthetic-val-samples", 2).globalBatch(2).replicas(2)
                    .epochs(1).set("optim.base-lr", 0.01).set("optim.base-batch", 2).set("optim.warmup-epochs", 0)
                    .set("optim.decay-epochs", java.util.List.of()).set("collective.host", "127.0.0.1")
                    .set("cluster.slot-wait", "0s").set("progress.interval", "60s").set("health.every", 0)
                    .runDir(work.resolve("run").toString()));
            assertEquals(2, result.steps(), log.toString());
            assertEquals(2, result.valSamples());
            assertTrue(log.toString().contains("replaced by Baton's optimiser (optim.*): updater(s) RmsProp"),
                log.toString());
            assertEquals(zoo.numParams(), result.model().numParams());
            assertFalse(Arrays.equals(initial, LibraryApiTest.params(result.model())), "it trained");
            assertTrue(result.model().getConfiguration().getVertices().containsKey("res5c_branch"),
                "the zoo graph's own layer names");
        }
        finally
        {
            sc.stop();
        }
    }
}
