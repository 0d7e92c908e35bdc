package io.baton.coordinator.train;

import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.checkpoint.CheckpointMetadata;

import java.util.Map;
import java.util.TreeMap;

/**
 * What a training checkpoint records besides the float state ({@code io.baton.trainer.run.ReplicaState}'s parts):
 * the part {@value #CONFIG_PART} holds the job's configuration text as the user gave it (its trajectory hash is the
 * metadata's {@code configHash}), and the metadata's extra map holds the position and the adjustments in force.
 *
 * <p>{@code step} is the number of global steps completed, i.e. the index of the next step; {@code epoch} is that
 * next step's epoch. The sampler position is (epoch, step in epoch, global batch): data order, augmentation and the
 * learning rate are functions of these and the seed, so nothing else is needed to continue exactly.
 */
public final class TrainCheckpoint
{
    public static final String CONFIG_PART = "config";

    static final String STEP_IN_EPOCH = "position.step-in-epoch";
    static final String STEPS_PER_EPOCH = "position.steps-per-epoch";
    static final String GLOBAL_BATCH = "position.global-batch";
    static final String ITERATION = "dl4j.iteration-count";
    static final String DL4J_EPOCH = "dl4j.epoch-count";
    static final String SEED = "train.seed";
    static final String LR_SCALE = "lr.scale";
    static final String REWARMUP_FROM = "lr.rewarmup-from";
    static final String REWARMUP_STEPS = "lr.rewarmup-steps";
    static final String NAN_ROLLBACKS = "recovery.nan-rollbacks";

    private TrainCheckpoint()
    {
    }

    /**
     * A checkpoint's position and adjustments, read back.
     *
     * @param step          steps completed.
     * @param epoch         epoch of the next step.
     * @param stepInEpoch   index of the next step in its epoch.
     * @param globalBatch   global batch the steps were taken with.
     * @param worldSize     replicas that wrote it.
     * @param lrScale       non-finite back-off multiplier in force.
     * @param nanRollbacks  rollbacks so far.
     * @param iteration     DL4J iteration count.
     * @param dl4jEpoch     DL4J epoch count.
     * @param rewarmupFrom  first step of a re-warmup in force (-1 = none).
     * @param rewarmupSteps its length.
     */
    public record Position(long step, long epoch, long stepInEpoch, int globalBatch, int worldSize, double lrScale,
        int nanRollbacks, int iteration, int dl4jEpoch, long rewarmupFrom, int rewarmupSteps)
    {
        public static Position of(final Checkpoint checkpoint)
        {
            final CheckpointMetadata m = checkpoint.metadata();
            final Map<String, String> x = m.extra();
            return new Position(m.step(), m.epoch(), Long.parseLong(need(x, STEP_IN_EPOCH, checkpoint)),
                Integer.parseInt(need(x, GLOBAL_BATCH, checkpoint)), m.worldSize(),
                Double.parseDouble(x.getOrDefault(LR_SCALE, "1.0")),
                Integer.parseInt(x.getOrDefault(NAN_ROLLBACKS, "0")),
                Integer.parseInt(x.getOrDefault(ITERATION, Long.toString(m.step()))),
                Integer.parseInt(x.getOrDefault(DL4J_EPOCH, Long.toString(m.epoch()))),
                Long.parseLong(x.getOrDefault(REWARMUP_FROM, "-1")),
                Integer.parseInt(x.getOrDefault(REWARMUP_STEPS, "0")));
        }

        /**
         * The first step to run with global batch {@code batch} and {@code stepsPerEpoch} steps per epoch: the same
         * step when the batch is unchanged; otherwise the step of the same epoch whose batch starts at or before the
         * first unseen sample (at most batch-1 samples of the epoch are seen twice).
         */
        public long startStep(final int batch, final long stepsPerEpoch)
        {
            if (batch == globalBatch)
            {
                return step;
            }
            final long seen = stepInEpoch * globalBatch;
            return epoch * stepsPerEpoch + Math.min(seen / batch, stepsPerEpoch);
        }
    }

    /** Metadata of a checkpoint taken after {@code completedSteps}. */
    static CheckpointMetadata metadata(final long completedSteps, final int nextEpoch, final long stepsPerEpoch,
        final StageSpec spec, final String configHash, final long seed, final int iteration, final int dl4jEpoch)
    {
        final Map<String, String> extra = new TreeMap<>();
        extra.put(STEP_IN_EPOCH, Long.toString(completedSteps - nextEpoch * stepsPerEpoch));
        extra.put(STEPS_PER_EPOCH, Long.toString(stepsPerEpoch));
        extra.put(GLOBAL_BATCH, Integer.toString(spec.globalBatch()));
        extra.put(ITERATION, Integer.toString(iteration));
        extra.put(DL4J_EPOCH, Integer.toString(dl4jEpoch));
        extra.put(SEED, Long.toString(seed));
        extra.put(LR_SCALE, Double.toString(spec.lrScale()));
        extra.put(REWARMUP_FROM, Long.toString(spec.rewarmupFrom()));
        extra.put(REWARMUP_STEPS, Integer.toString(spec.rewarmupSteps()));
        extra.put(NAN_ROLLBACKS, Integer.toString(spec.nanRollbacks()));
        return new CheckpointMetadata(completedSteps, nextEpoch, spec.worldSize(), configHash, batonVersion(),
            System.currentTimeMillis(), extra);
    }

    static String batonVersion()
    {
        final String version = TrainCheckpoint.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    private static String need(final Map<String, String> extra, final String key, final Checkpoint checkpoint)
    {
        final String value = extra.get(key);
        if (value == null)
        {
            throw new IllegalArgumentException(checkpoint.path() + " has no '" + key + "' in its metadata: not a "
                + "checkpoint of baton train");
        }
        return value;
    }
}
