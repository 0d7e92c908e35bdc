package io.baton.trainer.syncbn;

import io.baton.common.collective.Communicator;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.replica.ThreadCommunicator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SyncBatchNorm on N replica slices must equal DL4J's plain BatchNormalization on the concatenated batch: forward
 * output, input gradient, summed gamma/beta gradients and running statistics, within 1e-5 relative (float).
 */
class SyncBatchNormTest
{
    private static final double TOL = 1e-5;
    private static final long TIMEOUT_MS = 20_000;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldMatchPlainBnOnConcatenatedBatchWithTwoUnevenReplicas() throws Exception
    {
        checkAgainstPlainBn(cnnInput(8, 4, 5, 5, 1), true, 3, 5);
        checkAgainstPlainBn(cnnInput(8, 4, 5, 5, 1), false, 3, 5);
    }

    @Test
    void shouldMatchPlainBnWithThreeReplicasOneOfThemEmpty() throws Exception
    {
        checkAgainstPlainBn(cnnInput(7, 3, 4, 6, 2), true, 4, 0, 3);
        checkAgainstPlainBn(cnnInput(7, 3, 4, 6, 2), false, 4, 0, 3);
    }

    @Test
    void aNonDenseInputIsCopiedIntoOneBufferPerShapeWithTheDenseInputsResults()
    {
        final Layer layer = BnHarness.create(BnHarness.syncConf(4, true, true));
        final INDArray x1 = cnnInput(6, 4, 5, 5, 11);
        final INDArray x2 = cnnInput(6, 4, 5, 5, 12);
        final INDArray x3 = cnnInput(3, 4, 5, 5, 13);
        BnHarness.step(layer, x1, epsilonLike(x1, 21));
        assertNull(((SyncBatchNormLayer)layer).inputCopyBuffer(), "a dense input is read in place");
        BnHarness.step(layer, transposedCopy(x1), epsilonLike(x1, 21));
        final INDArray first = ((SyncBatchNormLayer)layer).inputCopyBuffer();
        assertNotNull(first);
        final BnHarness.Step second = BnHarness.step(layer, transposedCopy(x2), epsilonLike(x2, 22));
        assertSame(first, ((SyncBatchNormLayer)layer).inputCopyBuffer(), "same shape, same buffer");
        final BnHarness.Step dense = BnHarness.step(BnHarness.create(BnHarness.syncConf(4, true, true)), x2,
            epsilonLike(x2, 22));
        assertSameFloats(dense.out, second.out);
        assertSameFloats(dense.dx, second.dx);
        assertSameFloats(dense.dGamma, second.dGamma);
        assertSameFloats(dense.dBeta, second.dBeta);
        assertSameFloats(dense.dVar, second.dVar);
        final BnHarness.Step third = BnHarness.step(layer, transposedCopy(x3), epsilonLike(x3, 23));
        assertNotSame(first, ((SyncBatchNormLayer)layer).inputCopyBuffer(), "new shape, new buffer");
        final BnHarness.Step denseThird = BnHarness.step(BnHarness.create(BnHarness.syncConf(4, true, true)), x3,
            epsilonLike(x3, 23));
        assertSameFloats(denseThird.out, third.out);
        assertSameFloats(denseThird.dx, third.dx);
    }

    /** The same values as {@code x} in an array whose last two dimensions are a transposed view (not dense c order). */
    private static INDArray transposedCopy(final INDArray x)
    {
        final INDArray view = x.permute(0, 1, 3, 2).dup('c').permute(0, 1, 3, 2);
        assertEquals(x, view);
        return view;
    }

    @Test
    void shouldMatchPlainBnForDenseInput() throws Exception
    {
        Nd4j.getRandom().setSeed(3);
        final INDArray x = Nd4j.randn(DataType.FLOAT, 9, 6).muli(2.0).addi(3.0);
        checkAgainstPlainBn(x, true, 5, 0, 4);
        checkAgainstPlainBn(x, false, 2, 7);
    }

    @Test
    void shouldMatchPlainBnWhenUnboundOrAloneInTheWorld() throws Exception
    {
        final INDArray x = cnnInput(5, 3, 4, 4, 4);
        checkAgainstPlainBn(x, true, 5);
        final INDArray eps = epsilonLike(x, 44);
        final BnHarness.Step ref = BnHarness.step(BnHarness.create(BnHarness.plainConf(3, true)), x, eps);
        final BnHarness.Step unbound = BnHarness.step(BnHarness.create(BnHarness.syncConf(3, true, false)), x, eps);
        assertStepMatches(List.of(unbound), ref, false);
    }

    @Test
    void shouldMoveRunningVarianceTowardUnbiasedGlobalVariance() throws Exception
    {
        final INDArray x = cnnInput(6, 3, 2, 3, 5);
        final int[] sizes = {2, 0, 4};
        final INDArray eps = epsilonLike(x, 55);
        final Layer plain = BnHarness.create(BnHarness.plainConf(3, false));
        final INDArray runningVar = plain.getParam("var").castTo(DataType.DOUBLE);
        final BnHarness.Step ref = BnHarness.step(plain, x, eps);
        final List<BnHarness.Step> steps = BnHarness.runReplicas(ThreadCommunicator.world(3, TIMEOUT_MS),
            r -> BnHarness.create(BnHarness.syncConf(3, false, true)), BnHarness.split(x, sizes),
            BnHarness.split(eps, sizes));
        assertStepMatches(steps, ref, true);

        final INDArray unbiased = x.castTo(DataType.DOUBLE).var(true, 0, 2, 3);
        final INDArray expectedDelta = runningVar.sub(unbiased).muli(1.0 - BnHarness.DECAY);
        for (final BnHarness.Step s : steps)
        {
            assertTrue(BnHarness.relError(s.dVar, expectedDelta) < TOL, "running var delta " + s.dVar
                + " expected " + expectedDelta);
        }
    }

    @Test
    void shouldUseRunningStatisticsAndNeverCommunicateInEvalMode()
    {
        final INDArray x = cnnInput(3, 3, 4, 4, 6);
        final Layer plain = BnHarness.create(BnHarness.plainConf(3, true));
        final Layer sync = BnHarness.create(BnHarness.syncConf(3, true, true));
        ((SyncBatchNormLayer)sync).bind(new RefusingCommunicator());
        final LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        plain.setInput(x, mgr);
        sync.setInput(x, mgr);
        final INDArray expected = plain.activate(false, mgr).dup();
        final INDArray actual = sync.activate(false, mgr).dup();
        assertTrue(BnHarness.relError(actual, expected) < TOL);
        final INDArray std = Nd4j.math().pow(Nd4j.valueArrayOf(3L, 10.0f), plain.getParam("log10stdev"));
        final INDArray var = std.mul(std);
        final INDArray byHand = x.sub(plain.getParam("mean").reshape(1, 3, 1, 1))
            .divi(Nd4j.math().sqrt(var.add(BnHarness.EPS)).reshape(1, 3, 1, 1))
            .muli(plain.getParam("gamma").reshape(1, 3, 1, 1)).addi(plain.getParam("beta").reshape(1, 3, 1, 1));
        assertTrue(BnHarness.relError(actual, byHand) < TOL);
    }

    @Test
    void shouldKeepTheOneDnnHelperOutOfTrainingWhileHelpersAreEnabled() throws Exception
    {
        final Layer plain = BnHarness.create(BnHarness.plainConf(3, true));
        final Layer sync = BnHarness.create(BnHarness.syncConf(3, true, false));
        if (NativeRuntime.oneDnnHelpersActive())
        {
            assertNotNull(plain.getHelper(), "plain BN should hold the oneDNN helper when helpers are active");
        }
        assertNull(sync.getHelper());
        final java.lang.reflect.Field helper =
            org.deeplearning4j.nn.layers.normalization.BatchNormalization.class.getDeclaredField("helper");
        helper.setAccessible(true);
        assertNull(helper.get(sync), "the parent's helper field must be cleared");
        assertTrue(NativeRuntime.oneDnnHelpersActive(), "surefire runs with oneDNN helpers enabled: "
            + NativeRuntime.describe());
        checkAgainstPlainBn(cnnInput(6, 3, 3, 3, 8), true, 1, 5);
    }

    @Test
    void shouldSynchroniseOnlyWithinItsGroup() throws Exception
    {
        final INDArray x = cnnInput(10, 2, 3, 3, 9);
        final INDArray eps = epsilonLike(x, 99);
        final int[] sizes = {2, 3, 4, 1};
        final List<ThreadCommunicator> group0 = ThreadCommunicator.world(2, TIMEOUT_MS);
        final List<ThreadCommunicator> group1 = ThreadCommunicator.world(2, TIMEOUT_MS);
        final List<Communicator> comms = new ArrayList<>();
        for (int rank = 0; rank < 4; rank++)
        {
            final int rankInGroup = BnGroups.rankInGroup(rank, 4, 2);
            comms.add(BnGroups.groupIndex(rank, 4, 2) == 0 ? group0.get(rankInGroup) : group1.get(rankInGroup));
        }
        final List<BnHarness.Step> steps = BnHarness.runReplicas(comms,
            r -> BnHarness.create(SyncBatchNorm.from(BnHarness.plainConf(2, true), 2).unbiasedRunningVariance(false)),
            BnHarness.split(x, sizes), BnHarness.split(eps, sizes));
        final List<INDArray> xs = BnHarness.split(x, 5, 5);
        final List<INDArray> es = BnHarness.split(eps, 5, 5);
        for (int g = 0; g < 2; g++)
        {
            final BnHarness.Step ref =
                BnHarness.step(BnHarness.create(BnHarness.plainConf(2, true)), xs.get(g), es.get(g));
            assertStepMatches(steps.subList(2 * g, 2 * g + 2), ref, false);
        }
    }

    @Test
    void shouldRejectACommunicatorThatDoesNotSpanTheGroup()
    {
        final Layer sync = BnHarness.create(SyncBatchNorm.from(BnHarness.plainConf(2, true), 2));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ((SyncBatchNormLayer)sync).bind(ThreadCommunicator.world(3, 100).get(0)));
        assertTrue(ex.getMessage().contains("group size 2"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BnGroups.effectiveGroupSize(6, 4));
        assertEquals(3, BnGroups.groupIndex(7, 8, 2));
        assertEquals(6, BnGroups.firstRank(7, 8, 2));
    }

    @Test
    void shouldSurviveJsonRoundTripAndSwapEveryBatchNorm()
    {
        final ComputationGraphConfiguration plain = new NeuralNetConfiguration.Builder()
            .seed(1)
            .graphBuilder()
            .addInputs("in")
            .setInputTypes(InputType.convolutional(6, 6, 2))
            .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "in")
            .addLayer("bn", new BatchNormalization.Builder().decay(0.7).eps(1e-4).build(), "conv")
            .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).build(), "bn")
            .setOutputs("out")
            .build();
        final ComputationGraphConfiguration swapped = SyncBatchNormSwap.toSyncBatchNorm(plain, 2);
        assertEquals(0, SyncBatchNormSwap.countSyncBatchNorm(plain), "the argument must not be modified");
        assertEquals(1, SyncBatchNormSwap.countSyncBatchNorm(swapped));

        final ComputationGraphConfiguration restored = ComputationGraphConfiguration.fromJson(swapped.toJson());
        final org.deeplearning4j.nn.conf.layers.Layer layer =
            ((org.deeplearning4j.nn.conf.graph.LayerVertex)restored.getVertices().get("bn")).getLayerConf().getLayer();
        final SyncBatchNorm sync = assertInstanceOf(SyncBatchNorm.class, layer);
        assertEquals(2, sync.getGroupSize());
        assertTrue(sync.isUnbiasedRunningVariance());
        assertEquals(0.7, sync.getDecay());
        assertEquals(1e-4, sync.getEps());
        assertEquals(4, sync.getNOut());
        assertEquals(swapped, restored);

        final ComputationGraph plainNet = new ComputationGraph(plain);
        plainNet.init();
        final ComputationGraph syncNet = new ComputationGraph(restored);
        syncNet.init();
        assertEquals(plainNet.numParams(), syncNet.numParams());
        assertInstanceOf(SyncBatchNormLayer.class, syncNet.getLayer("bn"));
    }

    private static void checkAgainstPlainBn(final INDArray x, final boolean logStd, final int... sizes)
        throws Exception
    {
        final int channels = Math.toIntExact(x.size(1));
        final INDArray eps = epsilonLike(x, 7);
        final BnHarness.Step ref = BnHarness.step(BnHarness.create(BnHarness.plainConf(channels, logStd)), x, eps);
        final List<BnHarness.Step> steps = BnHarness.runReplicas(ThreadCommunicator.world(sizes.length, TIMEOUT_MS),
            r -> BnHarness.create(BnHarness.syncConf(channels, logStd, false)),
            BnHarness.split(x, sizes), BnHarness.split(eps, sizes));
        assertStepMatches(steps, ref, false);
    }

    private static void assertStepMatches(
        final List<BnHarness.Step> steps, final BnHarness.Step ref, final boolean unbiasedVar)
    {
        final List<INDArray> outs = new ArrayList<>();
        final List<INDArray> dxs = new ArrayList<>();
        INDArray dGamma = Nd4j.zerosLike(ref.dGamma);
        INDArray dBeta = Nd4j.zerosLike(ref.dBeta);
        for (final BnHarness.Step s : steps)
        {
            outs.add(s.out);
            dxs.add(s.dx);
            dGamma = dGamma.add(s.dGamma);
            dBeta = dBeta.add(s.dBeta);
            assertEquals(steps.get(0).dMean, s.dMean, "running mean deltas must be bit-identical on every rank");
            assertEquals(steps.get(0).dVar, s.dVar, "running var deltas must be bit-identical on every rank");
        }
        assertClose("output", BnHarness.concat(outs), ref.out);
        assertClose("input gradient", BnHarness.concat(dxs), ref.dx);
        assertClose("gamma gradient (sum over replicas)", dGamma, ref.dGamma);
        assertClose("beta gradient (sum over replicas)", dBeta, ref.dBeta);
        assertClose("running mean delta", steps.get(0).dMean, ref.dMean);
        if (!unbiasedVar)
        {
            assertClose("running var delta", steps.get(0).dVar, ref.dVar);
        }
    }

    private static void assertClose(final String what, final INDArray actual, final INDArray expected)
    {
        assertEquals(expected.length(), actual.length(), what + ": length");
        final double err = BnHarness.relError(actual, expected);
        assertTrue(err < TOL, what + ": relative error " + err);
    }

    /** Activations with a large common offset: a naive float E[x^2]-E[x]^2 would fail the tolerance. */
    private static void assertSameFloats(final INDArray expected, final INDArray actual)
    {
        assertArrayEquals(expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat());
    }

    private static INDArray cnnInput(final int n, final int c, final int h, final int w, final long seed)
    {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, n, c, h, w).muli(0.7).addi(3.0);
    }

    private static INDArray epsilonLike(final INDArray x, final long seed)
    {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, x.shape());
    }

    /** A two-rank communicator that fails any collective: proves eval mode does not communicate. */
    private static final class RefusingCommunicator implements Communicator
    {
        @Override
        public int rank()
        {
            return 0;
        }

        @Override
        public int worldSize()
        {
            return 2;
        }

        @Override
        public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void allReduce(final long address, final long floatCount, final ReduceOp op)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void allReduceSmall(final double[] data, final ReduceOp op)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void broadcast(final float[] data, final int offset, final int length, final int root)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void broadcast(final long address, final long floatCount, final int root)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public byte[] broadcastBytes(final byte[] payload, final int root)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public byte[][] allGather(final byte[] payload)
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void barrier()
        {
            throw new AssertionError("communicated");
        }

        @Override
        public void close()
        {
        }
    }
}
