package io.baton.common.checkpoint;

import org.apache.hadoop.fs.Path;

import java.util.List;
import java.util.Optional;

/**
 * Result of {@link CheckpointStore#latestValid()}: the newest checkpoint that verified, and the newer ones that were
 * rejected on the way (newest first), each with the reason.
 *
 * @param checkpoint the newest verified checkpoint, or {@code null} when there is none.
 * @param rejected   checkpoints newer than it that failed verification, newest first.
 */
public record LatestValid(Checkpoint checkpoint, List<Rejected> rejected)
{
    public LatestValid
    {
        rejected = List.copyOf(rejected);
    }

    /** The newest verified checkpoint, if any. */
    public Optional<Checkpoint> found()
    {
        return Optional.ofNullable(checkpoint);
    }

    /**
     * A checkpoint skipped because it did not verify.
     *
     * @param step   its step.
     * @param path   its directory.
     * @param reason what did not match (part, expected and actual size or checksum).
     */
    public record Rejected(long step, Path path, String reason)
    {
    }
}
