package io.baton.coordinator.train;

import io.baton.trainer.run.TrainOutcome;

import java.io.Serializable;

/**
 * What one replica reports back to the driver at the end of a training stage.
 *
 * @param rank        the replica's rank.
 * @param steps       steps this stage trained.
 * @param seconds     wall time of the stage on this replica.
 * @param lastLoss    global loss of the last step.
 * @param evalTop1    validation top-1 (NaN when not evaluated).
 * @param evalTop5    validation top-5.
 * @param evalLoss    validation cross-entropy.
 * @param evalSamples validation samples counted.
 * @param paramsChecksum a checksum of the final parameters (equal on every rank).
 * @param gpu         GPU addresses Spark assigned (empty on CPU).
 * @param outcome     how the stage ended (equal on every rank).
 * @param nextStep    the global step the stage would have run next (for NON_FINITE: the failing step).
 * @param diagnosis   for NON_FINITE: where the activations went bad.
 */
public record ReplicaReport(
    int rank,
    long steps,
    double seconds,
    double lastLoss,
    double evalTop1,
    double evalTop5,
    double evalLoss,
    long evalSamples,
    long paramsChecksum,
    String gpu,
    TrainOutcome.Kind outcome,
    long nextStep,
    String diagnosis) implements Serializable
{
}
