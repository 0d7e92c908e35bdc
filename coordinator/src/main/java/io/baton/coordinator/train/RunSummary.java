package io.baton.coordinator.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.trainer.run.RunJson;

import java.util.List;

/**
 * The end of a completed run: the check that every replica ended with the same parameters, and the run's
 * {@code summary.json} written from rank 0's report.
 *
 * <p>Threading: stateless; the driver's thread.
 */
final class RunSummary
{
    private RunSummary()
    {
    }

    /**
     * Refuses reports whose parameter checksums differ: the replicas of a completed stage must have ended on the same
     * parameters, or the model written is one replica's among several.
     */
    static void check(final List<ReplicaReport> reports)
    {
        final long checksum = reports.get(0).paramsChecksum();
        for (final ReplicaReport report : reports)
        {
            if (report.paramsChecksum() != checksum)
            {
                throw new IllegalStateException("replicas ended with different parameters: rank 0 checksum "
                    + Long.toHexString(checksum) + ", rank " + report.rank() + " "
                    + Long.toHexString(report.paramsChecksum()));
            }
        }
    }

    /** {@code summary.json} ({@link RunJson}): a NaN or infinite loss or accuracy is null, as its readers expect. */
    static String summaryJson(final ReplicaReport r, final TrainPlan plan)
    {
        final ObjectNode o = RunJson.object();
        o.put("steps", r.nextStep());
        o.put("last_stage_steps", r.steps());
        o.put("seconds", RunJson.rounded(r.seconds(), 3));
        RunJson.putFiniteOrNull(o, "last_loss", r.lastLoss());
        RunJson.putFiniteOrNull(o, "val_top1", r.evalTop1());
        RunJson.putFiniteOrNull(o, "val_top5", r.evalTop5());
        RunJson.putFiniteOrNull(o, "val_loss", r.evalLoss());
        o.put("val_samples", r.evalSamples());
        o.put("world_size", plan.worldSize());
        o.put("global_batch", plan.globalBatch());
        o.put("epochs", plan.epochs());
        o.put("params_checksum", Long.toHexString(r.paramsChecksum()));
        return RunJson.line(o) + "\n";
    }
}
