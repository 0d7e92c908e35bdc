package io.baton.trainer.run;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What one synchronous step did, as seen by all replicas (loss and accuracy are global-batch values, all-reduced).
 *
 * @param step            global step number, 0-based, counted from the start of training.
 * @param epoch           epoch of the step.
 * @param stepInEpoch     step within the epoch.
 * @param stepsPerEpoch   steps in this epoch.
 * @param lr              learning rate applied.
 * @param loss            mean loss over the global batch.
 * @param top1            fraction of the global batch classified correctly (training mode, before the update).
 * @param images          images in the global batch.
 * @param imagesPerSec    global images per second over this step.
 * @param stepMs          wall time of the step on this replica.
 * @param dataWaitMs      time waiting for the data of this step.
 * @param commMs          time in collectives (gradient all-reduce, SyncBN and metrics) during this step.
 * @param gradNorm        L2 norm of the averaged gradient.
 * @param rejectedMessages collective messages this replica refused during this step because they failed
 *                        authentication (a stranger's handshake or publication; {@code Communicator#rejectedMessages}).
 * @param jobRejectedMessages the same summed over every replica of the step (what rank 0's metrics line shows).
 */
public record StepMetrics(
    long step,
    int epoch,
    int stepInEpoch,
    int stepsPerEpoch,
    double lr,
    double loss,
    double top1,
    int images,
    double imagesPerSec,
    double stepMs,
    double dataWaitMs,
    double commMs,
    double gradNorm,
    long rejectedMessages,
    long jobRejectedMessages)
{
    /**
     * One JSON object on one line ({@link RunJson}): field names in snake case; times and images/s rounded to
     * three decimals; a NaN or infinite value as the string {@code "NaN"}, {@code "Infinity"} or
     * {@code "-Infinity"}.
     */
    public String toJson()
    {
        final ObjectNode o = RunJson.object();
        o.put("step", step);
        o.put("epoch", epoch);
        o.put("step_in_epoch", stepInEpoch);
        o.put("steps_per_epoch", stepsPerEpoch);
        o.put("lr", lr);
        o.put("loss", loss);
        o.put("top1", top1);
        o.put("images", images);
        o.put("images_per_sec", RunJson.rounded(imagesPerSec, 3));
        o.put("step_ms", RunJson.rounded(stepMs, 3));
        o.put("data_wait_ms", RunJson.rounded(dataWaitMs, 3));
        o.put("comm_ms", RunJson.rounded(commMs, 3));
        o.put("grad_norm", gradNorm);
        o.put("rejected_messages", jobRejectedMessages);
        return RunJson.line(o);
    }
}
