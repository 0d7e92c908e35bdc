package io.baton.common.checkpoint;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;

import java.time.Duration;

/**
 * The checkpoint keys of a job configuration, resolved: where checkpoints go, how often to write, what to keep.
 *
 * @param dir          the checkpoint directory, {@code <run.dir>/checkpoints}: a Hadoop URI or a local path.
 * @param everySteps   write a checkpoint every this many steps (and at epoch ends).
 * @param retention    what to keep after each publish.
 * @param async        write on a background thread.
 * @param closeTimeout longest wait for the write in flight at shutdown.
 */
public record CheckpointSettings(
    String dir,
    int everySteps,
    RetentionPolicy retention,
    boolean async,
    Duration closeTimeout)
{
    /** Name of the checkpoint directory inside the run directory. */
    public static final String SUBDIRECTORY = "checkpoints";

    /**
     * @param config the job configuration.
     * @param runDir the run directory ({@code run.dir}, a coordinator key), a Hadoop URI or a local path.
     */
    public static CheckpointSettings from(final BatonConfig config, final String runDir)
    {
        final int every = config.get(CommonKeys.CHECKPOINT_EVERY);
        return new CheckpointSettings(
            (runDir.endsWith("/") ? runDir : runDir + "/") + SUBDIRECTORY,
            every,
            RetentionPolicy.of(
                config.get(CommonKeys.CHECKPOINT_KEEP_LAST), config.get(CommonKeys.CHECKPOINT_KEEP_EVERY), every),
            config.get(CommonKeys.CHECKPOINT_ASYNC),
            config.get(CommonKeys.CHECKPOINT_CLOSE_TIMEOUT));
    }
}
