package io.baton.trainer.optim;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Baton's SGD on a hand-made layout against an independent double-precision reference and closed forms: classic
 * and Nesterov momentum, masked weight decay, LARS trust ratios, clipping, momentum checkpoint round trip.
 */
class LargeBatchSgdTest
{
    private static final int G = 8;
    private static final int N = 2;
    private static final double[] LRS = {0.1, 0.05, 0.2};

    private static ParamLayout layout()
    {
        return new ParamLayout(List.of(
            new ParamSegment("conv_W", 0, 6, ParamKind.WEIGHT),
            new ParamSegment("bn_gamma", 6, 2, ParamKind.NO_DECAY),
            new ParamSegment("bn_beta", 8, 2, ParamKind.NO_DECAY),
            new ParamSegment("bn_mean", 10, 2, ParamKind.RUNNING_STAT),
            new ParamSegment("bn_var", 12, 2, ParamKind.RUNNING_STAT),
            new ParamSegment("fc_W", 14, 8, ParamKind.WEIGHT),
            new ParamSegment("fc_b", 22, 3, ParamKind.NO_DECAY)));
    }

    private static float[] random(final Random random, final int n, final double scale)
    {
        final float[] out = new float[n];
        for (int i = 0; i < n; i++)
        {
            out[i] = (float)(random.nextGaussian() * scale);
        }
        return out;
    }

    /** Runs 3 steps on both implementations and returns the max relative error of the parameters. */
    private static double compareThreeSteps(final SgdSettings settings, final long seed)
    {
        final ParamLayout layout = layout();
        final Random random = new Random(seed);
        final float[] w0 = random(random, 25, 0.5);
        final INDArray params = Nd4j.createFromArray(w0.clone());
        final LargeBatchSgd sgd = new LargeBatchSgd(layout, settings);
        final SgdReference ref = new SgdReference(layout, settings, w0);
        for (final double lr : LRS)
        {
            final float[] gsum = random(random, 25, 3.0);
            final LargeBatchSgd.UpdateStats stats = sgd.apply(params, Nd4j.createFromArray(gsum.clone()), G, N, lr);
            ref.step(gsum, G, N, lr);
            assertEquals(ref.lastNorm, stats.gradientNorm(), 1e-6 * ref.lastNorm);
        }
        double maxErr = 0;
        double maxRef = 0;
        final float[] actual = params.toFloatVector();
        for (int i = 0; i < actual.length; i++)
        {
            maxErr = Math.max(maxErr, Math.abs(actual[i] - ref.w[i]));
            maxRef = Math.max(maxRef, Math.abs(ref.w[i]));
        }
        return maxErr / maxRef;
    }

    @Test
    void shouldMatchDoubleReferenceForClassicMomentumWithMaskedDecay()
    {
        assertTrue(compareThreeSteps(SgdSettings.momentum(0.9, false).withWeightDecay(0.05), 1) < 1e-6);
    }

    @Test
    void shouldMatchDoubleReferenceForNesterovMomentumWithMaskedDecay()
    {
        assertTrue(compareThreeSteps(SgdSettings.momentum(0.9, true).withWeightDecay(0.05), 2) < 1e-6);
    }

    @Test
    void shouldMatchClosedFormsForAConstantGradient()
    {
        final double m = 0.9;
        final double lr = 0.1;
        final double g = 0.25;
        for (final boolean nesterov : new boolean[] {false, true})
        {
            final ParamLayout one = new ParamLayout(List.of(new ParamSegment("x_W", 0, 1, ParamKind.WEIGHT)));
            final LargeBatchSgd sgd = new LargeBatchSgd(one, SgdSettings.momentum(m, nesterov));
            final INDArray w = Nd4j.createFromArray(new float[] {1.0f});
            for (int s = 0; s < 3; s++)
            {
                sgd.apply(w, Nd4j.createFromArray(new float[] {(float)(g * G)}), G, 1, lr);
            }
            // classic: v = g, g(1+m), g(1+m+m^2); Nesterov steps: g(1+m), g(1+m+m^2), g(1+m+m^2+m^3)
            final double steps = nesterov ? (1 + m) + (1 + m + m * m) + (1 + m + m * m + m * m * m)
                : 1 + (1 + m) + (1 + m + m * m);
            assertEquals(1.0 - lr * g * steps, w.getDouble(0), 1e-6, "nesterov=" + nesterov);
            assertEquals(g * (1 + m + m * m), sgd.momentumBuffer().getDouble(0), 1e-6);
        }
    }

    @Test
    void shouldScaleOnlyWeightTensorsByTheirLarsTrustRatio()
    {
        final SgdSettings settings = SgdSettings.momentum(0.9, false).withWeightDecay(5e-4).withLars(0.001);
        assertTrue(compareThreeSteps(settings, 3) < 1e-6);

        final ParamLayout layout = layout();
        final Random random = new Random(4);
        final float[] w0 = random(random, 25, 0.5);
        final float[] gsum = random(random, 25, 3.0);
        final LargeBatchSgd sgd = new LargeBatchSgd(layout, settings.withMaxGradNorm(0));
        final SgdReference ref = new SgdReference(layout, settings, w0);
        ref.step(gsum, G, N, 1.0);
        final INDArray params = Nd4j.createFromArray(w0.clone());
        sgd.apply(params, Nd4j.createFromArray(gsum.clone()), G, N, 1.0);
        // First step, v = d: the update of each tensor is lr x trust x (g + wd w); read the trust back from it.
        for (int k = 0; k < layout.segments().size(); k++)
        {
            final ParamSegment s = layout.segments().get(k);
            if (s.kind() == ParamKind.RUNNING_STAT)
            {
                continue;
            }
            final int i = (int)s.offset();
            final double wd = s.kind() == ParamKind.WEIGHT ? 5e-4 : 0;
            final double plain = gsum[i] / (double)G + wd * w0[i];
            final double trust = (w0[i] - params.getDouble(i)) / plain;
            final double expected = s.kind() == ParamKind.WEIGHT ? ref.lastTrust[k] : 1.0;
            assertEquals(expected, trust, 1e-4 * expected, s.name());
            if (s.kind() == ParamKind.WEIGHT)
            {
                assertTrue(trust < 0.01, s.name() + " trust " + trust);
            }
        }
        assertEquals(0.001 * 2.0 / (4.0 + 5e-4 * 2.0), sgd.larsTrust(2.0, 4.0), 1e-15);
        assertEquals(1.0, sgd.larsTrust(0.0, 4.0));
        assertEquals(1.0, sgd.larsTrust(2.0, 0.0));
    }

    @Test
    void shouldClipTheGlobalNormLikeClipGradNorm()
    {
        final ParamLayout layout = layout();
        final float[] gsum = new float[25];
        gsum[0] = 3 * G;      // conv_W
        gsum[6] = 4 * G;      // bn_gamma: norm of the averaged gradient is 5
        gsum[10] = 100;       // bn_mean is not part of the norm
        final SgdSettings settings = SgdSettings.momentum(0.0, false).withMaxGradNorm(1.0);
        final INDArray params = Nd4j.zeros(DataType.FLOAT, 25);
        final LargeBatchSgd.UpdateStats stats = new LargeBatchSgd(layout, settings)
            .apply(params, Nd4j.createFromArray(gsum), G, N, 1.0);
        assertEquals(5.0, stats.gradientNorm(), 1e-12);
        assertEquals(1.0 / (5.0 + 1e-6), stats.clipFactor(), 1e-12);
        assertEquals(-0.6, params.getDouble(0), 1e-6);
        assertEquals(-0.8, params.getDouble(6), 1e-6);
        assertEquals(-50.0, params.getDouble(10), 1e-6);

        final LargeBatchSgd.UpdateStats loose = new LargeBatchSgd(layout, settings.withMaxGradNorm(10.0))
            .apply(Nd4j.zeros(DataType.FLOAT, 25), Nd4j.createFromArray(gsum), G, N, 1.0);
        assertEquals(1.0, loose.clipFactor());
        assertTrue(compareThreeSteps(SgdSettings.momentum(0.9, true).withWeightDecay(1e-3).withMaxGradNorm(0.5), 5)
            < 1e-6);
    }

    @Test
    void shouldContinueIdenticallyFromARestoredMomentumBuffer()
    {
        final ParamLayout layout = layout();
        final SgdSettings settings = SgdSettings.momentum(0.9, true).withWeightDecay(1e-2);
        final Random random = new Random(6);
        final INDArray params = Nd4j.createFromArray(random(random, 25, 1.0));
        final float[][] grads = {random(random, 25, 1.0), random(random, 25, 1.0), random(random, 25, 1.0)};
        final LargeBatchSgd first = new LargeBatchSgd(layout, settings);
        first.apply(params, Nd4j.createFromArray(grads[0].clone()), G, N, 0.1);
        first.apply(params, Nd4j.createFromArray(grads[1].clone()), G, N, 0.1);
        final INDArray savedParams = params.dup();
        final INDArray savedMomentum = first.momentumBuffer().dup();

        final LargeBatchSgd resumed = new LargeBatchSgd(layout, settings);
        resumed.restoreMomentum(savedMomentum);
        first.apply(params, Nd4j.createFromArray(grads[2].clone()), G, N, 0.1);
        resumed.apply(savedParams, Nd4j.createFromArray(grads[2].clone()), G, N, 0.1);
        assertArrayEquals(params.toFloatVector(), savedParams.toFloatVector());
        assertArrayEquals(first.momentumBuffer().toFloatVector(), resumed.momentumBuffer().toFloatVector());
        assertThrows(IllegalArgumentException.class, () -> resumed.restoreMomentum(Nd4j.zeros(DataType.FLOAT, 3)));
    }

    @Test
    void shouldRefuseSegmentsThatDoNotTileTheVector()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new ParamLayout(List.of(
            new ParamSegment("a_W", 0, 4, ParamKind.WEIGHT), new ParamSegment("a_b", 5, 1, ParamKind.NO_DECAY))));
        assertEquals("parameter segments must tile the flat vector: a_b starts at 5, expected 4", ex.getMessage());
    }
}
