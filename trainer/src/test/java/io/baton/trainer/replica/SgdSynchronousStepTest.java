package io.baton.trainer.replica;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.optim.SgdSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DDP equivalence with Baton's optimiser (momentum, masked weight decay, clipping, Nesterov, LARS) and
 * SyncBatchNorm: N replicas on slices equal one replica on the whole batch after 5 steps within 1e-4 relative,
 * parameters and momentum buffers stay bit-identical across replicas.
 */
class SgdSynchronousStepTest
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
    void shouldTrainTwoReplicasLikeOneWithClassicMomentumDecayAndClipping() throws Exception
    {
        final SgdSettings sgd = SgdSettings.momentum(0.9, false).withWeightDecay(1e-2).withMaxGradNorm(0.5);
        final List<INDArray[]> batches = DdpHarness.data(STEPS, 8, 31);
        final INDArray single = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), true, sgd, batches, 0,
            null).get(0);
        final Map<String, Long> momentum = new ConcurrentHashMap<>();
        final List<INDArray> replicas = DdpHarness.train(ThreadCommunicator.world(2, TIMEOUT_MS), true, sgd, batches,
            1, (rank, step, graph, replica) -> momentum.put(rank + "/" + step,
                ParamChecksum.of(replica.optimizer().momentumBuffer())));
        assertReplicasIdentical(replicas);
        for (int s = 0; s < STEPS; s++)
        {
            assertEquals(momentum.get("0/" + s), momentum.get("1/" + s), "momentum differs after step " + s);
        }
        assertClose(replicas.get(0), single);
        assertMoved(single, batches);
    }

    @Test
    void shouldTrainFourReplicasLikeTwoWithNesterovAndLars() throws Exception
    {
        final SgdSettings sgd = SgdSettings.momentum(0.9, true).withWeightDecay(5e-3).withLars(1.0);
        final List<INDArray[]> batches = DdpHarness.data(STEPS, 8, 32);
        final List<INDArray> two = DdpHarness.train(ThreadCommunicator.world(2, TIMEOUT_MS), true, sgd, batches, 1,
            null);
        final List<INDArray> four = DdpHarness.train(ThreadCommunicator.world(4, TIMEOUT_MS), true, sgd, batches, 1,
            null);
        assertReplicasIdentical(two);
        assertReplicasIdentical(four);
        assertClose(four.get(0), two.get(0));
        assertMoved(two.get(0), batches);
    }

    @Test
    void shouldRefuseTheThreeArgumentStepWhenBuiltWithTheOptimiser()
    {
        final List<INDArray[]> batches = DdpHarness.data(1, 4, 33);
        final Exception ex = assertThrows(Exception.class, () -> DdpHarness.train(
            ThreadCommunicator.world(1, TIMEOUT_MS), false, SgdSettings.momentum(0.9, false), batches, 0,
            (rank, step, graph, replica) -> replica.step(batches.get(0)[0], batches.get(0)[1], 4)));
        assertTrue(String.valueOf(ex.getCause()).contains("call step(features, labels, globalBatchSize, lr)"),
            String.valueOf(ex.getCause()));
    }

    /** The optimiser really changed the parameters (so the closeness checks above can fail). */
    private static void assertMoved(final INDArray trained, final List<INDArray[]> batches) throws Exception
    {
        final INDArray untrained = DdpHarness.train(ThreadCommunicator.world(1, TIMEOUT_MS), true,
            SgdSettings.momentum(0.9, false), batches.subList(0, 1), 0, null).get(0);
        final double moved = DdpHarness.relError(trained, untrained);
        assertTrue(moved > 100 * TOL, "parameters moved only " + moved);
    }

    private static void assertReplicasIdentical(final List<INDArray> params)
    {
        for (int r = 1; r < params.size(); r++)
        {
            assertTrue(Arrays.equals(params.get(0).toFloatVector(), params.get(r).toFloatVector()),
                "rank " + r + " differs from rank 0");
        }
    }

    private static void assertClose(final INDArray actual, final INDArray expected)
    {
        final double err = DdpHarness.relError(actual, expected);
        assertTrue(err < TOL, "relative parameter error " + err);
    }
}
