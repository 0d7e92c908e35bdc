package io.baton.api;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * What {@link Baton#train} returns: the trained model in inference form (plain BatchNormalization, DL4J classes
 * only, ready for {@code output(...)}), its validation metrics over the whole validation split, and where the run
 * lives (checkpoints, {@code metrics.jsonl}, {@code run-events.jsonl}, {@code model.zip}, {@code summary.json}).
 *
 * @param model          the trained graph, inference form.
 * @param runDir         the run directory.
 * @param steps          the run's optimiser steps in total.
 * @param stepsThisCall  steps trained by this call (0 when the run was already complete).
 * @param valTop1        validation top-1 accuracy.
 * @param valTop5        validation top-5 accuracy.
 * @param valLoss        validation loss.
 * @param valSamples     validation samples scored (each exactly once).
 * @param paramsChecksum the replicas' common parameter checksum at the end ({@code summary.json}'s).
 * @param lastLoss       the global training loss of the last step this call trained (NaN when it trained none).
 * @param seconds        how long this call's last stage took.
 */
public record TrainResult(
    ComputationGraph model,
    String runDir,
    long steps,
    long stepsThisCall,
    double valTop1,
    double valTop5,
    double valLoss,
    long valSamples,
    long paramsChecksum,
    double lastLoss,
    double seconds)
{
}
