package io.baton.coordinator.evaluate;

import java.io.Serializable;

/** One replica's view of a distributed evaluation (the counts are global, equal on every rank). */
public record EvaluationReport(int rank, long samples, long top1Correct, long top5Correct, double lossSum)
    implements Serializable
{
    public double top1()
    {
        return samples == 0 ? Double.NaN : (double) top1Correct / samples;
    }

    public double top5()
    {
        return samples == 0 ? Double.NaN : (double) top5Correct / samples;
    }

    public double loss()
    {
        return samples == 0 ? Double.NaN : lossSum / samples;
    }
}
