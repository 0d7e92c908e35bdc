package io.baton.trainer.layers;

import io.baton.trainer.backend.NativeRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Baton's element-wise kernels give ND4J's bits on the values where a vectorised formulation could differ: the
 * rectified residual add ND4J's {@code relu(a + b)} ({@code -0.0} sums, negative sums, NaNs with payloads; with and
 * without {@code -0.0} in a chunk, the two loops), the ReLU gradient ND4J's {@code relu_bp} (zeros of both signs,
 * infinities, NaNs, subnormals, and a layer-sized random array through the layer).
 */
class ElementWiseBitsTest
{
    private static final float NEGATIVE_NAN = Float.intBitsToFloat(0xffc00123);
    private static final float SIGNALLING_NAN = Float.intBitsToFloat(0x7f800001);

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void rectifiedSumsAreNd4jsReluOfNd4jsSumBitForBit()
    {
        final float[] a = {-0f, -0f, 0f, -1f, 2f, -3f, NEGATIVE_NAN, SIGNALLING_NAN, 1f, -Float.MIN_VALUE, 5f};
        final float[] b = {-0f, 0f, -0f, 0.5f, -2f, 1f, 1f, -1f, NEGATIVE_NAN, 0f, -5f};
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(expected(a, b)[0]),
            "ND4J keeps the -0.0 of -0.0 + -0.0, the case Math.max would not");
        assertSameBits(expected(a, b), actual(a, b));
        final float[] noNegativeZero = a.clone();
        noNegativeZero[0] = 0f;
        noNegativeZero[1] = 0f;
        assertSameBits(expected(noNegativeZero, b), actual(noNegativeZero, b));
    }

    @Test
    void reluGradientIsNd4jsReluBpBitForBit()
    {
        final float[] input = {-1f, -0f, 0f, 1f, Float.NaN, NEGATIVE_NAN, SIGNALLING_NAN, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE};
        final float[] gradient = new float[input.length];
        for (int i = 0; i < gradient.length; i++)
        {
            gradient[i] = i % 2 == 0 ? 3f + i : -0f;
        }
        final int[] x = new int[input.length];
        final int[] g = new int[input.length];
        for (int i = 0; i < x.length; i++)
        {
            x[i] = Float.floatToRawIntBits(input[i]);
            g[i] = Float.floatToRawIntBits(gradient[i]);
        }
        ReplicaActivationLayer.maskByPositive(x, g, x.length);
        final float[] actual = new float[g.length];
        for (int i = 0; i < g.length; i++)
        {
            actual[i] = Float.intBitsToFloat(g[i]);
        }
        assertSameBits(reluBp(Nd4j.createFromArray(input), Nd4j.createFromArray(gradient)), actual);

        Nd4j.getRandom().setSeed(41);
        final INDArray in = Nd4j.randn(DataType.FLOAT, 7, 16, 33, 33);
        final INDArray eps = Nd4j.randn(DataType.FLOAT, 7, 16, 33, 33);
        final INDArray delta = Nd4j.createUninitialized(DataType.FLOAT, 7, 16, 33, 33);
        ReplicaActivationLayer.reluGradient(in, eps, delta);
        assertSameBits(reluBp(in, eps), delta.data().asFloat());
    }

    private static float[] reluBp(final INDArray input, final INDArray gradient)
    {
        final INDArray out = Nd4j.create(DataType.FLOAT, input.shape());
        Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(input, gradient, out, 0.0));
        return out.data().asFloat();
    }

    private static float[] expected(final float[] a, final float[] b)
    {
        final INDArray sum = Nd4j.createFromArray(a).addi(Nd4j.createFromArray(b));
        return Nd4j.getExecutioner().exec(new RectifiedLinear(sum, Nd4j.create(DataType.FLOAT, a.length)))
            .toFloatVector();
    }

    private static float[] actual(final float[] a, final float[] b)
    {
        final float[] x = a.clone();
        final int[] bits = new int[a.length];
        for (int i = 0; i < a.length; i++)
        {
            bits[i] = Float.floatToRawIntBits(a[i]);
        }
        ReplicaAddVertex.rectifiedSum(x, b.clone(), bits, a.length);
        return x;
    }

    private static void assertSameBits(final float[] expected, final float[] actual)
    {
        final int[] e = new int[expected.length];
        final int[] a = new int[actual.length];
        for (int i = 0; i < e.length; i++)
        {
            e[i] = Float.floatToRawIntBits(expected[i]);
            a[i] = Float.floatToRawIntBits(actual[i]);
        }
        assertArrayEquals(e, a);
    }
}
