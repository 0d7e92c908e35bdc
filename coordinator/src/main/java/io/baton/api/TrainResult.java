package io.baton.api;

import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * What {@link Baton#train} returns: the trained model in inference form (plain BatchNormalization, DL4J classes
 * only, ready for {@code output(...)}), its validation metrics over the whole validation split (unless
 * {@code run.final-evaluation} is off), and where the run
 * lives (checkpoints, {@code metrics.jsonl}, {@code run-events.jsonl}, {@code model.zip}, {@code summary.json}).
 *
 * @param model          the trained graph, inference form.
 * @param runDir         the run directory.
 * @param steps          the run's optimiser steps in total.
 * @param stepsThisCall  steps trained by this call (0 when the run was already complete).
 * @param valTop1        validation top-1 accuracy (NaN when not evaluated: {@code run.final-evaluation = false}).
 * @param valTop5        validation top-5 accuracy (NaN when not evaluated).
 * @param valLoss        validation loss (NaN when not evaluated).
 * @param valSamples     validation samples scored (each exactly once; 0 when not evaluated).
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
