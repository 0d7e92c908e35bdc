package io.baton.trainer.optim;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link LargeBatchSgd} (chunked, fused) against {@link ReferenceSgd} (the plain two-pass loops it replaced), bit
 * for bit: parameters, momentum, the overwritten gradient, the reported norm and clip factor, after every one of
 * several random steps. Layouts have segments straddling chunk boundaries, lengths that are not chunk multiples,
 * one-element segments, an all-zero weight tensor and gradient (LARS's trust-1 branch). G and N are not powers of
 * two and lr and momentum are not dyadic, so a reordered or re-associated float operation changes some bits.
 */
class LargeBatchSgdBitIdentityTest
{
    private static final int C = LargeBatchSgd.CHUNK;
    private static final int G = 96;
    private static final int N = 3;
    private static final double[] LRS = {0.1, 0.037, 0.2, 0.013, 0.07};
    /** A max norm far below the gradient norms of {@link #assertBitIdentical}, so the clip factor is below 1. */
    private static final double ACTIVE_CLIP = 0.7;

    /** Segments of every kind, in an interleaved order that puts boundaries inside and across chunks. */
    private static ParamLayout straddling()
    {
        final int[] lengths = {2 * C + 37, 5, 3, C - 1, 1, C + 1, 7, 3 * C, 64, 2, 1, C / 2 + 3, 1000, 19};
        final ParamKind[] kinds = {ParamKind.WEIGHT, ParamKind.NO_DECAY, ParamKind.RUNNING_STAT, ParamKind.WEIGHT,
            ParamKind.NO_DECAY, ParamKind.WEIGHT, ParamKind.RUNNING_STAT, ParamKind.WEIGHT, ParamKind.NO_DECAY,
            ParamKind.RUNNING_STAT, ParamKind.WEIGHT, ParamKind.WEIGHT, ParamKind.NO_DECAY, ParamKind.WEIGHT};
        final List<ParamSegment> out = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < lengths.length; i++)
        {
            out.add(new ParamSegment("s" + i, offset, lengths[i], kinds[i]));
            offset += lengths[i];
        }
        return new ParamLayout(out);
    }

    private static INDArray gaussian(final Random random, final long n, final double scale)
    {
        final float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = (float)(random.nextGaussian() * scale);
        }
        return Nd4j.createFromArray(out);
    }

    /**
     * Runs both implementations for {@link #LRS}.length steps from the same state on the same gradients and fails
     * at the first differing bit. {@code zeroSegment} (or -1) is a weight tensor whose weights and gradients are
     * zero; parameters and gradients are offset views into larger buffers, as {@code graph.params()} may be.
     */
    private static void assertBitIdentical(
        final ParamLayout layout, final SgdSettings settings, final long seed, final int zeroSegment)
    {
        final Random random = new Random(seed);
        final long n = layout.length();
        final INDArray w0 = gaussian(random, n, 0.5);
        zero(layout, zeroSegment, w0);
        final INDArray refParams = padded(w0, 3);
        final INDArray newParams = padded(w0, 11);
        final ReferenceSgd ref = new ReferenceSgd(layout, settings);
        final LargeBatchSgd sgd = new LargeBatchSgd(layout, settings);
        for (int step = 0; step < LRS.length; step++)
        {
            final INDArray gsum = gaussian(random, n, G * (step + 1) * 0.3);
            zero(layout, zeroSegment, gsum);
            final INDArray refGrad = padded(gsum, 5);
            final INDArray newGrad = padded(gsum, 1);
            final LargeBatchSgd.UpdateStats expected = ref.apply(refParams, refGrad, G, N, LRS[step]);
            final LargeBatchSgd.UpdateStats actual = sgd.apply(newParams, newGrad, G, N, LRS[step]);
            final String at = "step " + step + " of " + settings;
            assertEquals(Double.doubleToRawLongBits(expected.gradientNorm()),
                Double.doubleToRawLongBits(actual.gradientNorm()), "norm, " + at);
            assertEquals(Double.doubleToRawLongBits(expected.clipFactor()),
                Double.doubleToRawLongBits(actual.clipFactor()), "clip factor, " + at);
            assertSameBits(refParams, newParams, "params, " + at);
            assertSameBits(refGrad, newGrad, "gradient, " + at);
            assertSameBits(ref.momentumBuffer(), sgd.momentumBuffer(), "momentum, " + at);
        }
    }

    private static void zero(final ParamLayout layout, final int segment, final INDArray a)
    {
        if (segment >= 0)
        {
            final ParamSegment s = layout.segments().get(segment);
            a.get(NDArrayIndex.interval(s.offset(), s.end())).assign(0);
        }
    }

    /** A copy of {@code a} as a view at offset {@code lead} of a larger buffer. */
    private static INDArray padded(final INDArray a, final int lead)
    {
        final INDArray big = Nd4j.zeros(DataType.FLOAT, a.length() + lead + 2);
        final INDArray view = Nd4j.create(big.data(), new long[] {a.length()}, new long[] {1}, lead, 'c',
            DataType.FLOAT);
        view.assign(a);
        return view;
    }

    private static void assertSameBits(final INDArray expected, final INDArray actual, final String what)
    {
        final float[] e = expected.toFloatVector();
        final float[] a = actual.toFloatVector();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++)
        {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i]))
            {
                fail(what + ": element " + i + " differs, expected " + e[i] + " got " + a[i]);
            }
        }
    }

    private static SgdSettings wd()
    {
        return SgdSettings.momentum(0.9, false).withWeightDecay(0.0123);
    }

    @Test
    void shouldMatchReferenceForPlainMomentum()
    {
        assertBitIdentical(straddling(), SgdSettings.momentum(0.9, false), 1, -1);
    }

    @Test
    void shouldMatchReferenceForNesterov()
    {
        assertBitIdentical(straddling(), SgdSettings.momentum(0.87, true), 2, -1);
    }

    @Test
    void shouldMatchReferenceWithWeightDecayMask()
    {
        assertBitIdentical(straddling(), wd(), 3, -1);
        assertBitIdentical(straddling(), SgdSettings.momentum(0.95, true).withWeightDecay(5e-4), 4, -1);
    }

    @Test
    void shouldMatchReferenceWithLars()
    {
        assertBitIdentical(straddling(), wd().withLars(0.001), 5, -1);
        assertBitIdentical(straddling(), SgdSettings.momentum(0.9, true).withWeightDecay(1e-4).withLars(0.02), 6, 3);
    }

    @Test
    void shouldMatchReferenceWithActiveClipping()
    {
        final ParamLayout layout = straddling();
        assertBitIdentical(layout, wd().withMaxGradNorm(ACTIVE_CLIP), 7, -1);
        assertBitIdentical(layout, SgdSettings.momentum(0.9, true).withMaxGradNorm(ACTIVE_CLIP), 8, -1);
        final Random random = new Random(7);
        final LargeBatchSgd.UpdateStats stats = new LargeBatchSgd(layout, wd().withMaxGradNorm(ACTIVE_CLIP))
            .apply(gaussian(random, layout.length(), 0.5), gaussian(random, layout.length(), G * 0.3), G, N, 0.1);
        assertTrue(stats.clipFactor() < 1, "clipping must be active: " + stats);
    }

    @Test
    void shouldMatchReferenceWithLarsAndClipping()
    {
        assertBitIdentical(straddling(), wd().withLars(0.001).withMaxGradNorm(ACTIVE_CLIP), 9, 10);
        // Clipping configured but not active (factor exactly 1): the two-pass path without scaling.
        assertBitIdentical(straddling(), wd().withLars(0.001).withMaxGradNorm(1e9), 10, -1);
    }

    /**
     * With 1, 2 and 3 compute threads per replica the tensors are shared out among the threads (runs that start and
     * end inside the layout's chunk-straddling segments); every run is still the reference's bits.
     */
    @Test
    void shouldMatchReferenceOnEveryComputeThreadCount()
    {
        final int before = Nd4j.getEnvironment().maxMasterThreads();
        try
        {
            for (final int threads : new int[] {1, 2, 3})
            {
                Nd4j.getEnvironment().setMaxMasterThreads(threads);
                assertBitIdentical(straddling(), wd(), 20 + threads, -1);
                assertBitIdentical(straddling(), wd().withLars(0.001).withMaxGradNorm(ACTIVE_CLIP), 30 + threads, 10);
                assertBitIdentical(straddling(), SgdSettings.momentum(0.9, true).withMaxGradNorm(ACTIVE_CLIP),
                    40 + threads, -1);
            }
        }
        finally
        {
            Nd4j.getEnvironment().setMaxMasterThreads(before);
        }
    }

    @Test
    void shouldMatchReferenceOnSmallAndSingleSegmentLayouts()
    {
        final ParamLayout tiny = new ParamLayout(List.of(new ParamSegment("w", 0, 1, ParamKind.WEIGHT)));
        final ParamLayout one = new ParamLayout(List.of(new ParamSegment("w", 0, 5 * C - 3, ParamKind.WEIGHT)));
        for (final ParamLayout layout : List.of(tiny, one))
        {
            assertBitIdentical(layout, wd(), 11, -1);
            assertBitIdentical(layout, wd().withLars(0.001).withMaxGradNorm(ACTIVE_CLIP), 12, -1);
        }
    }

    /** A layout large enough, and stepped often enough, that the JIT compiles (and vectorises) the loops. */
    @Test
    void shouldMatchReferenceOnceCompiled()
    {
        final List<ParamSegment> segments = new ArrayList<>();
        long offset = 0;
        for (int i = 0; i < 60; i++)
        {
            final int length = i % 3 == 0 ? 28_000 + 13 * i : 1 + 31 * i;
            final ParamKind kind = i % 3 == 0 ? ParamKind.WEIGHT : i % 3 == 1 ? ParamKind.NO_DECAY : ParamKind.RUNNING_STAT;
            segments.add(new ParamSegment("s" + i, offset, length, kind));
            offset += length;
        }
        final ParamLayout layout = new ParamLayout(segments);
        for (int round = 0; round < 3; round++)
        {
            assertBitIdentical(layout, wd(), 20 + round, -1);
            assertBitIdentical(layout, SgdSettings.momentum(0.9, true).withWeightDecay(1e-4).withLars(0.001), 30, -1);
            assertBitIdentical(layout, wd().withMaxGradNorm(ACTIVE_CLIP), 40 + round, -1);
        }
    }
}
