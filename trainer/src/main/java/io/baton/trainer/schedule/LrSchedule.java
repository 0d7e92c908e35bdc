package io.baton.trainer.schedule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The large-batch learning-rate recipe of Goyal et al. 2017 as a pure function of (step, stepsPerEpoch):
 * <ol>
 *   <li>Linear scaling: {@code scaled = baseLr x globalBatch / baseBatch}.</li>
 *   <li>Gradual warmup, per step: over {@code W = round(warmupEpochs x stepsPerEpoch)} steps,
 *       {@code lr(s) = start + (scaled - start) x s / W} with {@code start = warmupStartFactor x scaled}; step W and
 *       later get the decayed scaled lr.</li>
 *   <li>Then STEP decay ({@code scaled x factor^k}, k = number of decay epochs e with s &gt;= e x stepsPerEpoch),
 *       COSINE ({@code scaled x (1 + cos(pi x (s - W) / (T - W))) / 2}, T = epochs x stepsPerEpoch) or CONSTANT.</li>
 * </ol>
 * Decay epochs must lie at or after the end of warmup and at most at the last epoch.
 *
 * <p>Thread-safe (immutable).
 */
public final class LrSchedule
{
    private final double baseLr;
    private final int baseBatch;
    private final int globalBatch;
    private final double warmupEpochs;
    private final double warmupStartFactor;
    private final DecayKind decay;
    private final int[] decayEpochs;
    private final double decayFactor;
    private final int epochs;

    /**
     * @param baseLr            lr for {@code baseBatch} (&gt; 0).
     * @param baseBatch         reference batch of the linear scaling rule (&gt; 0).
     * @param globalBatch       G (&gt; 0).
     * @param warmupEpochs      W in epochs (&gt;= 0, fractional allowed); 0 = no warmup.
     * @param warmupStartFactor lr at step 0 as a fraction of the scaled lr, in [0, 1].
     * @param decay             decay after warmup.
     * @param decayEpochs       STEP boundaries in epochs, increasing (ignored otherwise).
     * @param decayFactor       STEP multiplier per boundary, in (0, 1].
     * @param epochs            training length in epochs (&gt; 0), for COSINE and validation.
     */
    public LrSchedule(
        final double baseLr, final int baseBatch, final int globalBatch, final double warmupEpochs,
        final double warmupStartFactor, final DecayKind decay, final int[] decayEpochs, final double decayFactor,
        final int epochs)
    {
        require(baseLr > 0, "baseLr must be > 0, baseLr=" + baseLr);
        require(baseBatch > 0 && globalBatch > 0, "batches must be > 0: baseBatch=" + baseBatch
            + ", globalBatch=" + globalBatch);
        require(warmupEpochs >= 0 && warmupEpochs <= epochs, "warmupEpochs must be in [0, epochs]: warmupEpochs="
            + warmupEpochs + ", epochs=" + epochs);
        require(warmupStartFactor >= 0 && warmupStartFactor <= 1, "warmupStartFactor must be in [0, 1], was "
            + warmupStartFactor);
        require(epochs > 0, "epochs must be > 0, epochs=" + epochs);
        require(decayFactor > 0 && decayFactor <= 1, "decayFactor must be in (0, 1], was " + decayFactor);
        final int[] boundaries = decayEpochs == null ? new int[0] : decayEpochs.clone();
        if (decay == DecayKind.STEP)
        {
            for (int i = 0; i < boundaries.length; i++)
            {
                require(boundaries[i] >= warmupEpochs && boundaries[i] <= epochs && (i == 0 || boundaries[i] > boundaries[i - 1]),
                    "decayEpochs must increase within [warmupEpochs, epochs]: decayEpochs="
                        + Arrays.toString(boundaries) + ", warmupEpochs=" + warmupEpochs + ", epochs=" + epochs);
            }
        }
        this.baseLr = baseLr;
        this.baseBatch = baseBatch;
        this.globalBatch = globalBatch;
        this.warmupEpochs = warmupEpochs;
        this.warmupStartFactor = warmupStartFactor;
        this.decay = decay;
        this.decayEpochs = boundaries;
        this.decayFactor = decayFactor;
        this.epochs = epochs;
    }

    /**
     * STEP decay epochs at fractions of a run, always valid for {@link #LrSchedule}: each fraction f of
     * {@code epochs} E is rounded down to a whole epoch, floor(f x E), then raised to at least
     * max(1, ceil(warmupEpochs)) and to one past the previous point; points not before E are dropped. So
     * [0.5, 0.8] gives [5, 8] for 10 epochs, [1, 2] for 3, [1] for 2 and none for 1; with 6 warmup epochs of 10,
     * [6, 8].
     *
     * @param fractions    increasing, each in (0, 1).
     * @param epochs       E (&gt; 0).
     * @param warmupEpochs W (&gt;= 0, may be fractional).
     * @return strictly increasing epochs in [max(1, ceil(W)), E).
     */
    public static List<Integer> decayEpochsAt(final List<Double> fractions, final int epochs,
        final double warmupEpochs)
    {
        final int lowest = Math.max(1, (int)Math.ceil(warmupEpochs));
        final List<Integer> out = new ArrayList<>();
        int previous = 0;
        for (final double f : fractions)
        {
            // + 1e-9: 0.29 x 100 is 28.999999999999996 in doubles, and means epoch 29
            final int epoch = Math.max(Math.max((int)Math.floor(f * epochs + 1e-9), lowest), previous + 1);
            if (epoch >= epochs)
            {
                break;
            }
            out.add(epoch);
            previous = epoch;
        }
        return out;
    }

    /** baseLr x G / baseBatch. */
    public double scaledLr()
    {
        return baseLr * globalBatch / baseBatch;
    }

    /** Number of warmup steps: round(warmupEpochs x stepsPerEpoch). */
    public long warmupSteps(final long stepsPerEpoch)
    {
        return Math.round(warmupEpochs * stepsPerEpoch);
    }

    /** Total steps: epochs x stepsPerEpoch. */
    public long totalSteps(final long stepsPerEpoch)
    {
        return (long)epochs * stepsPerEpoch;
    }

    /** The learning rate of optimisation step {@code step} (0-based, counted over the whole run). */
    public double lr(final long step, final long stepsPerEpoch)
    {
        require(step >= 0 && stepsPerEpoch > 0, "need step >= 0 and stepsPerEpoch > 0: step=" + step
            + ", stepsPerEpoch=" + stepsPerEpoch);
        final double scaled = scaledLr();
        final long warmup = warmupSteps(stepsPerEpoch);
        if (step < warmup)
        {
            final double start = warmupStartFactor * scaled;
            return start + (scaled - start) * step / warmup;
        }
        switch (decay)
        {
            case STEP:
                double lr = scaled;
                for (final int boundary : decayEpochs)
                {
                    if (step >= (long)boundary * stepsPerEpoch)
                    {
                        lr *= decayFactor;
                    }
                }
                return lr;
            case COSINE:
                final long span = Math.max(1, totalSteps(stepsPerEpoch) - warmup);
                final double progress = Math.min(1.0, (double)(step - warmup) / span);
                return scaled * 0.5 * (1.0 + Math.cos(Math.PI * progress));
            case CONSTANT:
            default:
                return scaled;
        }
    }

    /** The points {@code baton train --dry-run} prints: warmup start and end, each decay point, the last step. */
    public List<PlanPoint> plan(final long stepsPerEpoch)
    {
        final List<PlanPoint> out = new ArrayList<>();
        final long warmup = warmupSteps(stepsPerEpoch);
        if (warmup > 0)
        {
            out.add(point("warmup start", 0, stepsPerEpoch));
        }
        out.add(point(warmup > 0 ? "warmup end" : "start", warmup, stepsPerEpoch));
        if (decay == DecayKind.STEP)
        {
            for (final int boundary : decayEpochs)
            {
                out.add(point("decay x" + decayFactor, (long)boundary * stepsPerEpoch, stepsPerEpoch));
            }
        }
        else if (decay == DecayKind.COSINE)
        {
            out.add(point("cosine midpoint", warmup + (totalSteps(stepsPerEpoch) - warmup) / 2, stepsPerEpoch));
        }
        out.add(point("last step", totalSteps(stepsPerEpoch) - 1, stepsPerEpoch));
        return out;
    }

    /** A human-readable plan, one point per line. */
    public String describe(final long stepsPerEpoch)
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "lr: base %.6g x global batch %d / base batch %d = %.6g; warmup %.4g epochs "
            + "(%d steps) from x%.4g; %s decay; %d epochs x %d steps%n", baseLr, globalBatch, baseBatch, scaledLr(),
            warmupEpochs, warmupSteps(stepsPerEpoch), warmupStartFactor, decay.name().toLowerCase(Locale.ROOT), epochs,
            stepsPerEpoch));
        for (final PlanPoint p : plan(stepsPerEpoch))
        {
            sb.append(p).append(System.lineSeparator());
        }
        return sb.toString();
    }

    private PlanPoint point(final String label, final long step, final long stepsPerEpoch)
    {
        return new PlanPoint(label, step, (double)step / stepsPerEpoch, lr(step, stepsPerEpoch));
    }

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }

    /** One line of the plan. */
    public static final class PlanPoint
    {
        private final String label;
        private final long step;
        private final double epoch;
        private final double lr;

        PlanPoint(final String label, final long step, final double epoch, final double lr)
        {
            this.label = label;
            this.step = step;
            this.epoch = epoch;
            this.lr = lr;
        }

        public String label()
        {
            return label;
        }

        public long step()
        {
            return step;
        }

        public double epoch()
        {
            return epoch;
        }

        public double lr()
        {
            return lr;
        }

        @Override
        public String toString()
        {
            return String.format(Locale.ROOT, "  %-16s step %8d  epoch %8.3f  lr %.6g", label, step, epoch, lr);
        }
    }
}
