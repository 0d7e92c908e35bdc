package io.baton.trainer.optim;

import java.util.List;

/** An independent double-precision implementation of the PyTorch SGD/LARS/clipping formulas, for comparison. */
final class SgdReference
{
    private final List<ParamSegment> segments;
    private final SgdSettings settings;
    final double[] w;
    final double[] v;
    double lastNorm;
    final double[] lastTrust;

    SgdReference(final ParamLayout layout, final SgdSettings settings, final float[] initial)
    {
        this.segments = layout.segments();
        this.settings = settings;
        this.w = new double[initial.length];
        for (int i = 0; i < initial.length; i++)
        {
            w[i] = initial[i];
        }
        this.v = new double[initial.length];
        this.lastTrust = new double[segments.size()];
    }

    void step(final float[] gradientSum, final int globalBatch, final int worldSize, final double lr)
    {
        final double[] g = new double[gradientSum.length];
        double squares = 0;
        for (final ParamSegment s : segments)
        {
            for (int i = (int)s.offset(); i < s.end(); i++)
            {
                if (s.kind() == ParamKind.RUNNING_STAT)
                {
                    w[i] -= gradientSum[i] / (double)worldSize;
                }
                else
                {
                    g[i] = gradientSum[i] / (double)globalBatch;
                    squares += g[i] * g[i];
                }
            }
        }
        lastNorm = Math.sqrt(squares);
        final double clip = settings.maxGradNorm() > 0
            ? Math.min(1.0, settings.maxGradNorm() / (lastNorm + 1e-6)) : 1.0;
        final double m = settings.momentum();
        for (int k = 0; k < segments.size(); k++)
        {
            final ParamSegment s = segments.get(k);
            if (s.kind() == ParamKind.RUNNING_STAT)
            {
                continue;
            }
            final boolean decayed = s.kind() == ParamKind.WEIGHT;
            final double wd = decayed ? settings.weightDecay() : 0.0;
            double wn = 0;
            double gn = 0;
            for (int i = (int)s.offset(); i < s.end(); i++)
            {
                wn += w[i] * w[i];
                gn += g[i] * clip * g[i] * clip;
            }
            wn = Math.sqrt(wn);
            gn = Math.sqrt(gn);
            final double trust = decayed && settings.lars() && wn > 0 && gn > 0
                ? settings.larsTrustCoefficient() * wn / (gn + wd * wn) : 1.0;
            lastTrust[k] = trust;
            for (int i = (int)s.offset(); i < s.end(); i++)
            {
                final double d = (g[i] * clip + wd * w[i]) * trust;
                v[i] = m * v[i] + d;
                final double step = settings.nesterov() ? d + m * v[i] : v[i];
                w[i] -= lr * step;
            }
        }
    }
}
