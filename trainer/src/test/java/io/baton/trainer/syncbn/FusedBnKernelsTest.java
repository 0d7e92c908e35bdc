package io.baton.trainer.syncbn;

import io.baton.trainer.backend.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused kernels against the ND4J op chain they replaced: element-wise results bit-identical, per-channel sums
 * equal to the double-precision reductions up to summation order.
 */
class FusedBnKernelsTest
{
    private static final long[] SHAPE = {5, 3, 7, 9};

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private static INDArray random(final long seed, final double scale, final double offset)
    {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, SHAPE).muli(scale).addi(offset);
    }

    @Test
    void shiftedSumsEqualTheDoubleReductionsOfTheOpChain()
    {
        final INDArray x = random(1, 3.0, 40.0);
        final double[] shift = {39.5, 40.25, 41.0};
        final double[] fused = new double[6];
        FusedBnKernels.shiftedSums(x, shift, fused);
        final double[] chain = new double[7];
        StatSums.shifted(x, shift, chain);
        for (int i = 0; i < 6; i++)
        {
            assertEquals(chain[i], fused[i], 1e-12 * Math.max(1.0, Math.abs(chain[i])), "sum " + i);
        }
    }

    @Test
    void normaliseIsBitIdenticalToTheBroadcastOpChain()
    {
        final INDArray x = random(2, 2.0, 1.0);
        final double[] mean = {0.9, 1.1, 1.0};
        final double[] std = {1.9, 2.1, 2.05};
        final float[] gamma = {0.5f, 1.5f, -0.75f};
        final float[] beta = {0.1f, -0.2f, 0.3f};
        final INDArray hat = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.normalize(x, mean, std, gamma, beta, hat, out);

        final INDArray expectedHat = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        Nd4j.getExecutioner().exec(new BroadcastSubOp(x, Nd4j.createFromArray(mean).castTo(DataType.FLOAT),
            expectedHat, 1));
        Nd4j.getExecutioner().exec(new BroadcastDivOp(expectedHat, Nd4j.createFromArray(std).castTo(DataType.FLOAT),
            expectedHat, 1));
        final INDArray expectedOut = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(expectedHat, Nd4j.createFromArray(gamma), expectedOut, 1));
        Nd4j.getExecutioner().exec(new BroadcastAddOp(expectedOut, Nd4j.createFromArray(beta), expectedOut, 1));
        assertArrayEquals(expectedHat.data().asFloat(), hat.data().asFloat());
        assertArrayEquals(expectedOut.data().asFloat(), out.data().asFloat());
    }

    @Test
    void gradientSumsAndInputGradientMatchTheOpChain()
    {
        final INDArray dy = random(3, 1.0, 0.0);
        final INDArray hat = random(4, 1.0, 0.0);
        final double[] fused = new double[6];
        FusedBnKernels.gradientSums(dy, hat, fused);
        final double[] chain = new double[6];
        StatSums.gradient(dy, hat, chain);
        for (int i = 0; i < 6; i++)
        {
            assertEquals(chain[i], fused[i], 1e-12 * Math.max(1.0, Math.abs(chain[i])), "sum " + i);
        }

        final float[] scale = {0.7f, 1.3f, -0.4f};
        final float[] meanDy = {0.01f, -0.02f, 0.03f};
        final float[] meanDyXhat = {0.2f, 0.1f, -0.3f};
        final INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.inputGradient(dy, hat, scale, meanDy, meanDyXhat, dx);
        INDArray expected = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        expected = Nd4j.getExecutioner().exec(new BroadcastMulOp(hat, Nd4j.createFromArray(meanDyXhat), expected, 1));
        expected.rsubi(dy);
        expected = Nd4j.getExecutioner().exec(new BroadcastSubOp(expected, Nd4j.createFromArray(meanDy), expected, 1));
        expected = Nd4j.getExecutioner().exec(new BroadcastMulOp(expected, Nd4j.createFromArray(scale), expected, 1));
        assertArrayEquals(expected.data().asFloat(), dx.data().asFloat());
    }

    @Test
    void viewsAndOtherTypesAreCopiedToDenseFloatFirst()
    {
        final INDArray x = random(5, 1.0, 0.0);
        assertTrue(FusedBnKernels.applicable(x));
        assertTrue(FusedBnKernels.dense(x) == x, "a dense FLOAT array is used in place");
        final INDArray permuted = x.permute(0, 1, 3, 2);
        assertFalse(FusedBnKernels.applicable(permuted));
        final INDArray dense = FusedBnKernels.dense(permuted);
        assertTrue(FusedBnKernels.applicable(dense));
        assertEquals(permuted, dense);
        assertTrue(FusedBnKernels.applicable(FusedBnKernels.dense(x.castTo(DataType.DOUBLE))));
    }
}
