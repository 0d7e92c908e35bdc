package io.baton.trainer.replica;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.syncbn.SyncBatchNorm;
import io.baton.trainer.syncbn.SyncBatchNormLayer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gradient all-reduce overlapped with backward gives the plain all-reduce's result. */
class OverlappedAllReduceTest
{
    private static final long TIMEOUT_MS = 20_000;
    /** Smaller than any layer of the test nets: one bucket per ready point. */
    private static final long TINY_BUCKET_BYTES = 4;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldGiveThePlainAllReducesBitsWithTwoRanks() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(5, 8, 31);
        final SgdSettings sgd = new SgdSettings(0.9, false, 1e-4, false, 0.001, 0.0);
        final List<ThreadCommunicator> plainWorld = ThreadCommunicator.world(2, TIMEOUT_MS);
        final List<INDArray> plain = DdpHarness.train(2, plainWorld::get, true, sgd, batches, 1, null);
        final List<ThreadCommunicator> world = ThreadCommunicator.world(2, TIMEOUT_MS);
        final List<ThreadCommunicator> gradients = ThreadCommunicator.world(2, TIMEOUT_MS);
        final List<INDArray> overlapped = DdpHarness.train(2, world::get,
            new DdpHarness.Overlap(gradients::get, TINY_BUCKET_BYTES), true, sgd, batches, 1, null);
        for (int rank = 0; rank < 2; rank++)
        {
            assertArrayEquals(plain.get(rank).toFloatVector(), overlapped.get(rank).toFloatVector(),
                "rank " + rank + ": a SUM of two ranks does not depend on the buckets");
        }
    }

    @Test
    void shouldKeepThreeRanksIdenticalAndEqualToOneReplicaOnTheConcatenatedBatch() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(5, 9, 32);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), true, batches, 0, null)
            .get(0);
        final List<ThreadCommunicator> world = ThreadCommunicator.world(3, TIMEOUT_MS);
        final List<ThreadCommunicator> gradients = ThreadCommunicator.world(3, TIMEOUT_MS);
        final List<INDArray> replicas = DdpHarness.train(3, world::get,
            new DdpHarness.Overlap(gradients::get, TINY_BUCKET_BYTES), true, null, batches, 1, null);
        assertTrue(Arrays.equals(replicas.get(0).toFloatVector(), replicas.get(1).toFloatVector())
            && Arrays.equals(replicas.get(0).toFloatVector(), replicas.get(2).toFloatVector()),
            "replicas must be bit-identical");
        final double err = DdpHarness.relError(replicas.get(0), single);
        assertTrue(err < 1e-4, "relative parameter error " + err);
    }

    /**
     * What the overlap relies on in DL4J: when a SyncBatchNorm layer reports its gradients final, every slot of the
     * flat gradient from its offset on already holds its final value, in a real zoo ResNet with shortcut vertices.
     */
    @Test
    void shouldReportOnlyGradientsThatBackwardNoLongerChanges()
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4).seed(5).build();
        final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()),
            new NoOp());
        graph.initGradientsView();
        final INDArray flat = graph.getFlattenedGradients();
        final List<Long> offsets = new ArrayList<>();
        final List<float[]> seen = new ArrayList<>();
        int layers = 0;
        for (final Layer layer : graph.getLayers())
        {
            if (layer instanceof SyncBatchNormLayer)
            {
                layers++;
                final long offset = layer.getGradientsViewArray().offset() - flat.offset();
                ((SyncBatchNormLayer)layer).gradientListener(l ->
                {
                    offsets.add(offset);
                    seen.add(suffix(flat, offset));
                });
            }
        }
        flat.assign(Float.NaN);
        graph.setInputs(Nd4j.rand(DataType.FLOAT, 6, 3, 16, 16));
        final INDArray labels = Nd4j.zeros(DataType.FLOAT, 6, 4);
        for (int i = 0; i < 6; i++)
        {
            labels.putScalar(i, i % 4, 1.0);
        }
        graph.setLabels(labels);
        graph.computeGradientAndScore();

        assertEquals(layers, offsets.size(), "every SyncBatchNorm layer reports once per backward pass");
        for (int i = 0; i < offsets.size(); i++)
        {
            if (i > 0)
            {
                assertTrue(offsets.get(i) < offsets.get(i - 1), "reports come in descending offsets: " + offsets);
            }
            assertArrayEquals(suffix(flat, offsets.get(i)), seen.get(i),
                "gradient from offset " + offsets.get(i) + " changed after it was reported final");
        }
        assertTrue(Float.isFinite(suffix(flat, 0)[0]), "backward wrote the whole gradient");
    }

    @Test
    void shouldRefuseANewStepWhileTheLastOneNeverFinished()
    {
        final List<ThreadCommunicator> gradients = ThreadCommunicator.world(1, TIMEOUT_MS);
        final ComputationGraph graph = DdpHarness.init(
            io.baton.trainer.syncbn.SyncBatchNormSwap.toSyncBatchNorm(DdpHarness.residualNet(), 0));
        try (OverlappedAllReduce reducer = new OverlappedAllReduce(graph, gradients.get(0), 1 << 20))
        {
            assertEquals(1, reducer.plan().buckets().size(), "a 1 MB bucket holds this small net whole");
            reducer.begin(graph.getFlattenedGradients());
            final IllegalStateException ex = assertThrows(IllegalStateException.class,
                () -> reducer.begin(graph.getFlattenedGradients()));
            assertTrue(ex.getMessage().contains("never finished"), ex.getMessage());
        }
    }

    @Test
    void shouldLeaveNoThreadWhenClosedDuringAnAllReduceThatWaitsForASilentPeer() throws Exception
    {
        // A communicator that ignores close() while it waits (as any blocked transport may): only an interrupt ends it.
        final List<ThreadCommunicator> gradients = ThreadCommunicator.world(2, 120_000);
        final ComputationGraph graph = DdpHarness.init(
            io.baton.trainer.syncbn.SyncBatchNormSwap.toSyncBatchNorm(DdpHarness.residualNet(), 0));
        final OverlappedAllReduce reducer = new OverlappedAllReduce(graph, gradients.get(0), 1 << 20);
        final java.util.concurrent.ExecutorService training = java.util.concurrent.Executors.newSingleThreadExecutor();
        try
        {
            reducer.begin(graph.getFlattenedGradients());
            // finish() marks the whole gradient ready: the communication thread starts an all-reduce that rank 1
            // never joins.
            final java.util.concurrent.Future<?> step = training.submit(reducer::finish);
            Thread.sleep(300);
            final long startNs = System.nanoTime();
            reducer.close();
            final long closeMs = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
            assertTrue(closeMs < 15_000, "close took " + closeMs + " ms");
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("baton-grad-allreduce-r0") && t.isAlive()),
                "the communication thread outlived close()");
            final java.util.concurrent.ExecutionException ex = assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> step.get(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(ex.getCause() instanceof RuntimeException, ex.toString());
        }
        finally
        {
            training.shutdownNow();
            reducer.close();
        }
    }

    @Test
    void shouldCutABucketAtEverySyncBatchNormLayerWhenBucketsAreTiny()
    {
        final ComputationGraph graph = DdpHarness.init(
            io.baton.trainer.syncbn.SyncBatchNormSwap.toSyncBatchNorm(DdpHarness.residualNet(), 0));
        try (OverlappedAllReduce reducer = new OverlappedAllReduce(graph, ThreadCommunicator.world(1, TIMEOUT_MS)
            .get(0), TINY_BUCKET_BYTES))
        {
            final List<GradientBuckets.Bucket> buckets = reducer.plan().buckets();
            assertEquals(3, buckets.size(), "out..bn2, bn2..bn1, conv1: " + buckets);
            assertEquals(graph.numParams(), buckets.get(0).hi());
            assertEquals(0, buckets.get(2).lo());
        }
    }

    private static float[] suffix(final INDArray flat, final long from)
    {
        final INDArray v = flat.reshape(flat.length());
        return v.get(NDArrayIndex.interval(from, v.length())).dup().toFloatVector();
    }
}
