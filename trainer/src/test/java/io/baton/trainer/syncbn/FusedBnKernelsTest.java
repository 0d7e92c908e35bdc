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
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused kernels against the ND4J op chain they replaced: element-wise results bit-identical (backward computing
 * the normalised input again from the input gives the stored one's results), the fused ReLU ND4J's, per-channel sums
 * equal to the double-precision reductions within float lanes' rounding, and the same bits on one and two threads.
 */
class FusedBnKernelsTest
{
    // 37 images: two full blocks of FusedBnKernels.BLOCK_IMAGES and a partial one
    private static final long[] SHAPE = {37, 3, 7, 9};
    /**
     * The sums' rounding bound relative to the sum of their terms' magnitudes: a float lane adds up to 16 terms (16
     * roundings of 2^-24), each term itself rounded once or twice in float, then double; 2e-6 is about twice that.
     */
    private static final double LANE_ROUNDING = 2e-6;
    private static final double[] MEAN = {0.9, 1.1, 1.0};
    private static final double[] STD = {1.9, 2.1, 2.05};
    private static final float[] GAMMA = {0.5f, 1.5f, -0.75f};
    private static final float[] BETA = {0.1f, -0.2f, 0.3f};

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
        final float[] centred = x.data().asFloat();
        for (int i = 0; i < centred.length; i++)
        {
            centred[i] -= (float)shift[channel(i)];
        }
        final double[] magnitude = magnitudes(centred, null);
        for (int i = 0; i < 6; i++)
        {
            assertEquals(chain[i], fused[i], LANE_ROUNDING * magnitude[i], "sum " + i);
        }
    }

    @Test
    void normaliseIsBitIdenticalToTheBroadcastOpChainAndItsFusedReluToNd4jsRelu()
    {
        final INDArray x = random(2, 2.0, 1.0);
        final FusedBnKernels.Affine affine = affine(false);
        final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.normalize(x, affine, out);
        final INDArray expectedOut = chainOutput(x, chainHat(x));
        assertArrayEquals(expectedOut.data().asFloat(), out.data().asFloat());

        final INDArray rectified = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.normalize(x, affine(true), rectified);
        final INDArray expectedRectified = Nd4j.getExecutioner().exec(new RectifiedLinear(expectedOut.dup(),
            Nd4j.createUninitialized(DataType.FLOAT, SHAPE)));
        assertArrayEquals(expectedRectified.data().asFloat(), rectified.data().asFloat());
        assertTrue(expectedOut.minNumber().floatValue() < 0 && rectified.minNumber().floatValue() == 0f,
            "the data has negative pre-activations, which the ReLU zeroes");
    }

    @Test
    void theFusedReluKeepsNd4jsNegativeZeroWhereBetaIsNegativeZero()
    {
        // x equal to the mean gives xHat = 0, times a negative gamma -0.0, plus beta -0.0: -0.0, which ND4J's ReLU
        // keeps and Math.max would turn into +0.0; channel 0 has that beta, the others take the vectorised loop
        final INDArray x = random(6, 2.0, 1.0);
        x.putScalar(new long[] {0, 0, 0, 0}, 0.9f);
        x.putScalar(new long[] {0, 2, 0, 0}, 1.0f);
        final double[] mean = {(double)0.9f, 1.1, 1.0};
        final float[] gamma = {-0.5f, 1.5f, -0.75f};
        final float[] beta = {-0f, -0.2f, 0.3f};
        final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.normalize(x, new FusedBnKernels.Affine(mean, STD, gamma, beta, true), out);
        final INDArray plain = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.normalize(x, new FusedBnKernels.Affine(mean, STD, gamma, beta, false), plain);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(out.getFloat(0, 0, 0, 0)));
        final INDArray expected = Nd4j.getExecutioner().exec(new RectifiedLinear(plain,
            Nd4j.createUninitialized(DataType.FLOAT, SHAPE)));
        assertArrayEquals(bits(expected), bits(out));
    }

    private static int[] bits(final INDArray a)
    {
        final float[] f = a.data().asFloat();
        final int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++)
        {
            out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
    }

    @Test
    void gradientSumsAndInputGradientFromTheInputMatchTheOpChainOnTheStoredNormalisedInput()
    {
        final INDArray x = random(4, 2.0, 1.0);
        final INDArray dy = random(3, 1.0, 0.0);
        final INDArray hat = chainHat(x);
        final double[] fused = new double[6];
        FusedBnKernels.gradientSums(dy, x, affine(false), fused);
        final double[] chain = new double[6];
        StatSums.gradient(dy, hat, chain);
        final double[] magnitude = magnitudes(dy.data().asFloat(), hat.data().asFloat());
        for (int i = 0; i < 6; i++)
        {
            assertEquals(chain[i], fused[i], LANE_ROUNDING * magnitude[i], "sum " + i);
        }

        final float[] scale = {0.7f, 1.3f, -0.4f};
        final float[] meanDy = {0.01f, -0.02f, 0.03f};
        final float[] meanDyXhat = {0.2f, 0.1f, -0.3f};
        final INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        FusedBnKernels.inputGradient(dy, x, affine(true), scale, meanDy, meanDyXhat, dx);
        INDArray expected = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        expected = Nd4j.getExecutioner().exec(new BroadcastMulOp(hat, Nd4j.createFromArray(meanDyXhat), expected, 1));
        expected.rsubi(dy);
        expected = Nd4j.getExecutioner().exec(new BroadcastSubOp(expected, Nd4j.createFromArray(meanDy), expected, 1));
        expected = Nd4j.getExecutioner().exec(new BroadcastMulOp(expected, Nd4j.createFromArray(scale), expected, 1));
        assertArrayEquals(expected.data().asFloat(), dx.data().asFloat());
    }

    @Test
    void kernelsGiveTheSameBitsOnOneAndTwoComputeThreads()
    {
        final long[] shape = {8, 16, 32, 32}; // large enough that two threads split it
        Nd4j.getRandom().setSeed(9);
        final INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(2.0).addi(0.5);
        final INDArray dy = Nd4j.randn(DataType.FLOAT, shape);
        final double[] shift = new double[16];
        final double[] mean = new double[16];
        final double[] std = new double[16];
        final float[] gamma = new float[16];
        final float[] beta = new float[16];
        for (int c = 0; c < 16; c++)
        {
            shift[c] = 0.4 + 0.01 * c;
            mean[c] = 0.5 - 0.02 * c;
            std[c] = 1.9 + 0.03 * c;
            gamma[c] = 1f - 0.1f * c;
            beta[c] = -0.2f + 0.03f * c;
        }
        final FusedBnKernels.Affine affine = new FusedBnKernels.Affine(mean, std, gamma, beta, true);
        final int before = Nd4j.getEnvironment().maxMasterThreads();
        final Object[][] results = new Object[2][];
        try
        {
            for (int threads = 1; threads <= 2; threads++)
            {
                Nd4j.getEnvironment().setMaxMasterThreads(threads);
                final double[] sums = new double[32];
                FusedBnKernels.shiftedSums(x, shift, sums);
                final double[] gradSums = new double[32];
                FusedBnKernels.gradientSums(dy, x, affine, gradSums);
                final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, shape);
                FusedBnKernels.normalize(x, affine, out);
                final INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, shape);
                FusedBnKernels.inputGradient(dy, x, affine, gamma, beta, gamma, dx);
                results[threads - 1] = new Object[] {sums, gradSums, out.data().asFloat(), dx.data().asFloat()};
            }
        }
        finally
        {
            Nd4j.getEnvironment().setMaxMasterThreads(before);
        }
        assertArrayEquals((double[])results[0][0], (double[])results[1][0]);
        assertArrayEquals((double[])results[0][1], (double[])results[1][1]);
        assertArrayEquals((float[])results[0][2], (float[])results[1][2]);
        assertArrayEquals((float[])results[0][3], (float[])results[1][3]);
    }

    /** The channel of element {@code i} of a c-order array of {@link #SHAPE}. */
    private static int channel(final int i)
    {
        return (int)(i / (SHAPE[2] * SHAPE[3]) % SHAPE[1]);
    }

    /** Per channel {@code sum |a|} then {@code sum |a * b|} ({@code b} null: {@code sum a^2}), in double. */
    private static double[] magnitudes(final float[] a, final float[] b)
    {
        final double[] out = new double[2 * (int)SHAPE[1]];
        for (int i = 0; i < a.length; i++)
        {
            out[channel(i)] += Math.abs(a[i]);
            out[(int)SHAPE[1] + channel(i)] += Math.abs((double)a[i] * (b == null ? a[i] : b[i]));
        }
        return out;
    }

    private static FusedBnKernels.Affine affine(final boolean relu)
    {
        return new FusedBnKernels.Affine(MEAN, STD, GAMMA, BETA, relu);
    }

    /** The normalised input as the ND4J op chain SyncBatchNorm replaced computes it. */
    private static INDArray chainHat(final INDArray x)
    {
        final INDArray hat = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        Nd4j.getExecutioner().exec(new BroadcastSubOp(x, Nd4j.createFromArray(MEAN).castTo(DataType.FLOAT), hat, 1));
        Nd4j.getExecutioner().exec(new BroadcastDivOp(hat, Nd4j.createFromArray(STD).castTo(DataType.FLOAT), hat, 1));
        return hat;
    }

    private static INDArray chainOutput(final INDArray x, final INDArray hat)
    {
        final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, SHAPE);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(hat, Nd4j.createFromArray(GAMMA), out, 1));
        Nd4j.getExecutioner().exec(new BroadcastAddOp(out, Nd4j.createFromArray(BETA), out, 1));
        return out;
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
