package io.baton.trainer.run;

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
    /** One JSON object on one line. */
    public String toJson()
    {
        return String.format(java.util.Locale.ROOT,
            "{\"step\":%d,\"epoch\":%d,\"step_in_epoch\":%d,\"steps_per_epoch\":%d,\"lr\":%s,\"loss\":%s,"
                + "\"top1\":%s,\"images\":%d,\"images_per_sec\":%.3f,\"step_ms\":%.3f,\"data_wait_ms\":%.3f,"
                + "\"comm_ms\":%.3f,\"grad_norm\":%s,\"rejected_messages\":%d}",
            step, epoch, stepInEpoch, stepsPerEpoch, num(lr), num(loss), num(top1), images, imagesPerSec, stepMs,
            dataWaitMs, commMs, num(gradNorm), jobRejectedMessages);
    }

    private static String num(final double v)
    {
        return Double.isFinite(v) ? Double.toString(v) : "\"" + v + "\"";
    }
}
