package io.baton.trainer.bench;

import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamKind;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.ReferenceSgd;
import io.baton.trainer.optim.SgdSettings;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark (not a test): one {@link LargeBatchSgd#apply} step on the real parameter layout of a zoo ResNet (every
 * conv/FC weight, bias, BN gamma/beta and running-stat segment), against {@link ReferenceSgd} (the update before
 * the chunked rewrite) in the same JVM, alternating the two on every round so that machine noise hits both alike.
 * Run by {@code bench/updater/run.sh} on one pinned core.
 *
 * <p>Each timed call starts from a freshly copied gradient sum (the copy is not timed; apply overwrites it), and
 * both implementations see the same inputs, so their parameters and momentum must stay bit-identical, which is
 * checked after the last round.
 *
 * <p>Args: {@code rounds warmupRounds arch[:classes] ...}, e.g. {@code 15 5 resnet50:10 resnet152:1000}.
 */
public final class UpdaterBench
{
    private static final int GLOBAL_BATCH = 32;
    private static final int WORLD = 2;
    private static final double LR = 0.01;

    private UpdaterBench()
    {
    }

    /** The one-step interface both implementations are measured through. */
    private interface Step
    {
        LargeBatchSgd.UpdateStats apply(INDArray params, INDArray gradientSum);

        INDArray momentum();
    }

    public static void main(final String[] args)
    {
        NativeRuntime.configure();
        final int rounds = Integer.parseInt(args[0]);
        final int warmup = Integer.parseInt(args[1]);
        final SgdSettings base = SgdSettings.momentum(0.9, false).withWeightDecay(1e-4);
        // maxGradNorm 1 is far below the averaged gradient's norm here, so clipping is active (factor < 1).
        final List<String[]> configs = List.of(
            new String[] {"momentum+wd", ""},
            new String[] {"momentum+wd+lars", "lars"},
            new String[] {"momentum+wd+clip", "clip"},
            new String[] {"momentum+wd+lars+clip", "lars,clip"});
        for (int a = 2; a < args.length; a++)
        {
            final String[] spec = args[a].split(":");
            final ParamLayout layout = layout(spec[0], Integer.parseInt(spec[1]));
            System.out.printf(Locale.ROOT, "LAYOUT arch=%s params=%d segments=%d weight=%d no_decay=%d running_stat=%d%n",
                spec[0], layout.length(), layout.segments().size(), layout.count(ParamKind.WEIGHT),
                layout.count(ParamKind.NO_DECAY), layout.count(ParamKind.RUNNING_STAT));
            for (final String[] config : configs)
            {
                SgdSettings settings = base;
                if (config[1].contains("lars"))
                {
                    settings = settings.withLars(0.001);
                }
                if (config[1].contains("clip"))
                {
                    settings = settings.withMaxGradNorm(1.0);
                }
                run(spec[0], layout, config[0], settings, rounds, warmup);
            }
        }
    }

    private static ParamLayout layout(final String arch, final int classes)
    {
        // Parameter counts do not depend on the input size (global pooling before the FC layer): keep it small.
        final ModelOptions options = ModelOptions.builder(arch).input(64, 64, 3).numClasses(classes).seed(7).build();
        return ParamLayout.of(ResNetZoo.graph(options));
    }

    private static void run(
        final String arch, final ParamLayout layout, final String name, final SgdSettings settings, final int rounds,
        final int warmup)
    {
        final long n = layout.length();
        Nd4j.getRandom().setSeed(42);
        final INDArray w0 = Nd4j.randn(DataType.FLOAT, n).muli(0.05);
        final INDArray g0 = Nd4j.randn(DataType.FLOAT, n).muli(GLOBAL_BATCH * 0.01);
        final ReferenceSgd refSgd = new ReferenceSgd(layout, settings);
        final LargeBatchSgd newSgd = new LargeBatchSgd(layout, settings);
        final Step ref = new Step()
        {
            @Override
            public LargeBatchSgd.UpdateStats apply(final INDArray params, final INDArray gradientSum)
            {
                return refSgd.apply(params, gradientSum, GLOBAL_BATCH, WORLD, LR);
            }

            @Override
            public INDArray momentum()
            {
                return refSgd.momentumBuffer();
            }
        };
        final Step cur = new Step()
        {
            @Override
            public LargeBatchSgd.UpdateStats apply(final INDArray params, final INDArray gradientSum)
            {
                return newSgd.apply(params, gradientSum, GLOBAL_BATCH, WORLD, LR);
            }

            @Override
            public INDArray momentum()
            {
                return newSgd.momentumBuffer();
            }
        };
        final Step[] steps = {ref, cur};
        final INDArray[] params = {w0.dup(), w0.dup()};
        final INDArray[] grads = {g0.dup(), g0.dup()};
        final double[][] ms = new double[2][rounds];
        final LargeBatchSgd.UpdateStats[] stats = new LargeBatchSgd.UpdateStats[2];
        for (int r = 0; r < warmup + rounds; r++)
        {
            for (int j = 0; j < 2; j++)
            {
                final int k = (r + j) % 2;
                grads[k].assign(g0);
                final long t0 = System.nanoTime();
                stats[k] = steps[k].apply(params[k], grads[k]);
                final long t1 = System.nanoTime();
                if (r >= warmup)
                {
                    ms[k][r - warmup] = (t1 - t0) / 1e6;
                }
            }
        }
        final boolean identical = sameBits(params[0], params[1]) && sameBits(grads[0], grads[1])
            && sameBits(steps[0].momentum(), steps[1].momentum())
            && Double.doubleToRawLongBits(stats[0].gradientNorm()) == Double.doubleToRawLongBits(stats[1].gradientNorm())
            && Double.doubleToRawLongBits(stats[0].clipFactor()) == Double.doubleToRawLongBits(stats[1].clipFactor());
        final double before = median(ms[0]);
        final double after = median(ms[1]);
        System.out.printf(Locale.ROOT,
            "RESULT arch=%s params=%d config=%s clip_factor=%.4f before_median_ms=%.1f before_min_ms=%.1f"
                + " after_median_ms=%.1f after_min_ms=%.1f before_ns_per_param=%.2f after_ns_per_param=%.2f"
                + " speedup=%.2f bit_identical=%s%n",
            arch, n, name, stats[1].clipFactor(), before, min(ms[0]), after, min(ms[1]), before * 1e6 / n,
            after * 1e6 / n, before / after, identical);
        for (final INDArray a : List.of(w0, g0, params[0], params[1], grads[0], grads[1]))
        {
            a.close();
        }
        refSgd.momentumBuffer().close();
        newSgd.momentumBuffer().close();
    }

    private static boolean sameBits(final INDArray a, final INDArray b)
    {
        final FloatBuffer x = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        final FloatBuffer y = b.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < a.length(); i++)
        {
            if (Float.floatToRawIntBits(x.get(i)) != Float.floatToRawIntBits(y.get(i)))
            {
                return false;
            }
        }
        return true;
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static double min(final double[] values)
    {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }
}
