package io.baton.trainer.syncbn;

import io.baton.trainer.backend.NativeRuntime;
import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Bench main (not a test): one training-mode forward + backward of a single layer, DL4J's BatchNormalization (with
 * its oneDNN helper when enabled) against SyncBatchNormLayer without a communicator (its local compute only), on
 * the activation shapes of ResNet-20 (batch 32 by default). Prints median ms of both per shape, and of each of
 * the four kernels alone. Usage: SyncBnBench [rounds [batch]].
 */
public final class SyncBnBench
{
    private SyncBnBench()
    {
    }

    public static void main(final String[] args)
    {
        NativeRuntime.configure();
        final int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        final int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        final long[][] shapes = {{batch, 16, 32, 32}, {batch, 32, 16, 16}, {batch, 64, 8, 8}};
        for (final long[] shape : shapes)
        {
            final int channels = (int)shape[1];
            final Layer plain = BnHarness.create(BnHarness.plainConf(channels, false));
            final Layer sync = BnHarness.create(BnHarness.syncConf(channels, false, true));
            Nd4j.getRandom().setSeed(1);
            final INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(2).addi(1);
            final INDArray eps = Nd4j.randn(DataType.FLOAT, shape);
            final double[] p = new double[rounds];
            final double[] s = new double[rounds];
            for (int i = 0; i < rounds + 5; i++)
            {
                long t = System.nanoTime();
                BnHarness.step(plain, x, eps);
                final double pm = (System.nanoTime() - t) / 1e6;
                t = System.nanoTime();
                BnHarness.step(sync, x, eps);
                final double sm = (System.nanoTime() - t) / 1e6;
                if (i >= 5)
                {
                    p[i - 5] = pm;
                    s[i - 5] = sm;
                }
            }
            final double[] k = new double[rounds];
            final double[] shift = new double[channels];
            final double[] sums = new double[2 * channels];
            final double[] std = new double[channels];
            Arrays.fill(std, 1.5);
            final float[] ones = new float[channels];
            Arrays.fill(ones, 1f);
            final FusedBnKernels.Affine affine = new FusedBnKernels.Affine(shift, std, ones, ones, false);
            final INDArray out = Nd4j.createUninitialized(DataType.FLOAT, shape);
            final double[][] each = new double[4][rounds];
            for (int i = 0; i < rounds + 5; i++)
            {
                final long t0 = System.nanoTime();
                FusedBnKernels.shiftedSums(x, shift, sums);
                final long t1 = System.nanoTime();
                FusedBnKernels.normalize(x, affine, out);
                final long t2 = System.nanoTime();
                FusedBnKernels.gradientSums(eps, x, affine, sums);
                final long t3 = System.nanoTime();
                FusedBnKernels.inputGradient(eps, x, affine, ones, ones, ones, out);
                final long t4 = System.nanoTime();
                if (i >= 5)
                {
                    k[i - 5] = (t4 - t0) / 1e6;
                    each[0][i - 5] = (t1 - t0) / 1e6;
                    each[1][i - 5] = (t2 - t1) / 1e6;
                    each[2][i - 5] = (t3 - t2) / 1e6;
                    each[3][i - 5] = (t4 - t3) / 1e6;
                }
            }
            Arrays.sort(k);
            for (final double[] e : each)
            {
                Arrays.sort(e);
            }
            System.out.printf("shape %s: the four kernels alone %.2f ms (sums %.2f, normalize %.2f, gradient sums "
                + "%.2f, input gradient %.2f)%n", Arrays.toString(shape), k[rounds / 2], each[0][rounds / 2],
                each[1][rounds / 2], each[2][rounds / 2], each[3][rounds / 2]);
            Arrays.sort(p);
            Arrays.sort(s);
            System.out.printf("shape %s: DL4J BN %.2f ms, SyncBN %.2f ms (median of %d), ratio %.2f%n",
                Arrays.toString(shape), p[rounds / 2], s[rounds / 2], rounds, s[rounds / 2] / p[rounds / 2]);
        }
    }
}
