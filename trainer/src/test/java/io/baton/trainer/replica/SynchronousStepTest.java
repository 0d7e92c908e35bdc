package io.baton.trainer.replica;

import io.baton.trainer.backend.NativeRuntime;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DDP equivalence: N replicas with SyncBatchNorm on slices of a global batch train to the parameters of one
 * replica on the whole batch (within 1e-4 relative after 5 steps), stay bit-identical, and a perturbed replica is
 * caught by the checksum.
 */
class SynchronousStepTest
{
    private static final int STEPS = 5;
    private static final double TOL = 1e-4;
    private static final long TIMEOUT_MS = 30_000;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldTrainTwoReplicasLikeOneOnTheConcatenatedBatch() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(STEPS, 8, 11);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), true, batches, 0, null)
            .get(0);
        final List<INDArray> replicas = DdpHarness.train(ThreadCommunicator.world(2, TIMEOUT_MS), true, batches, 1,
            null);
        assertReplicasIdentical(replicas);
        assertClose(replicas.get(0), single);
    }

    @Test
    void shouldTrainFourReplicasLikeTwo() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(STEPS, 8, 12);
        final List<INDArray> two = DdpHarness.train(ThreadCommunicator.world(2, TIMEOUT_MS), true, batches, 0, null);
        final List<INDArray> four = DdpHarness.train(ThreadCommunicator.world(4, TIMEOUT_MS), true, batches, 2, null);
        assertReplicasIdentical(four);
        assertClose(four.get(0), two.get(0));
    }

    @Test
    void shouldDivideByTheGlobalBatchWhenSlicesAreUneven() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(STEPS, 8, 13);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), true, batches, 0, null)
            .get(0);
        final List<INDArray> three = DdpHarness.train(ThreadCommunicator.world(3, TIMEOUT_MS), true, batches, 5,
            null);
        assertReplicasIdentical(three);
        assertClose(three.get(0), single);
    }

    @Test
    void shouldEqualFitBitExactlyOnOneReplica() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(3, 6, 14);
        final INDArray manual = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), false, batches, 0, null)
            .get(0);
        final ComputationGraph graph = DdpHarness.init(DdpHarness.residualNet());
        for (final INDArray[] b : batches)
        {
            graph.fit(new INDArray[] {b[0]}, new INDArray[] {b[1]});
        }
        assertTrue(Arrays.equals(graph.params().toFloatVector(), manual.toFloatVector()),
            "manual step differs from fit(): relative error " + DdpHarness.relError(manual, graph.params()));
    }

    @Test
    void shouldFailOnEveryRankWhenOneReplicaIsPerturbed() throws Exception
    {
        final List<INDArray[]> batches = DdpHarness.data(4, 4, 15);
        final ExecutionException ex = assertThrows(ExecutionException.class, () -> DdpHarness.train(
            ThreadCommunicator.world(2, TIMEOUT_MS), true, batches, 1, (rank, step, graph, replica) ->
            {
                if (rank == 1 && step == 1)
                {
                    graph.params().putScalar(0, graph.params().getFloat(0) + 1e-3f);
                }
            }));
        final ReplicaDivergenceException divergence = assertInstanceOf(ReplicaDivergenceException.class,
            ex.getCause());
        assertEquals(3, divergence.step());
        assertTrue(divergence.getMessage().contains("after step 3: ranks [1] differ from rank 0"),
            divergence.getMessage());
    }

    private static void assertReplicasIdentical(final List<INDArray> params)
    {
        for (int r = 1; r < params.size(); r++)
        {
            assertTrue(Arrays.equals(params.get(0).toFloatVector(), params.get(r).toFloatVector()),
                "rank " + r + " differs from rank 0");
            assertEquals(ParamChecksum.of(params.get(0)), ParamChecksum.of(params.get(r)));
        }
    }

    private static void assertClose(final INDArray actual, final INDArray expected)
    {
        final double err = DdpHarness.relError(actual, expected);
        assertTrue(err < TOL, "relative parameter error " + err);
    }
}
