package io.baton.coordinator.retrain;

import java.util.Locale;

/**
 * What one {@code baton retrain} did.
 *
 * @param promoted       whether the candidate became {@code latest.zip}.
 * @param candidate      the candidate's exported zip (kept whether promoted or not): a local path or a Hadoop FS URI.
 * @param candidateTop1  the candidate's val top-1.
 * @param currentTop1    the previous latest's val top-1 on the same data, NaN when there was none.
 * @param valSamples     validation samples scored.
 * @param steps          training steps taken.
 * @param bnLayersRecalibrated BN layers whose running statistics were re-estimated (0 = no recalibration).
 */
public record RetrainOutcome(boolean promoted, String candidate, double candidateTop1, double currentTop1,
    long valSamples, long steps, int bnLayersRecalibrated)
{
    public String describe()
    {
        return String.format(Locale.ROOT, "%s: candidate %s val top-1 %.4f vs current %s (%d val samples, %d steps, "
                + "%d BN layers recalibrated)", promoted ? "PROMOTED" : "NOT PROMOTED (kept as candidate)", candidate,
            candidateTop1, Double.isNaN(currentTop1) ? "none" : String.format(Locale.ROOT, "%.4f", currentTop1),
            valSamples, steps, bnLayersRecalibrated);
    }
}
