package io.baton.trainer.data;

/**
 * Per-sample augmentation randomness keyed on (job seed, epoch, sample id) only: a sample is cropped, flipped and
 * jittered the same way whatever the world size, the rank that loads it, its position in the batch or the number
 * of loader threads. Thread-safe (stateless).
 */
public final class AugmentationSeeds
{
    private AugmentationSeeds()
    {
    }

    /** The seed of sample {@code sampleId}'s augmentation in {@code epoch}. */
    public static long seed(final long jobSeed, final long epoch, final long sampleId)
    {
        return SplitMix64.derive(SplitMix64.derive(SplitMix64.derive(jobSeed, 0x4155474DL), epoch), sampleId);
    }

    /** A fresh generator for sample {@code sampleId}'s augmentation in {@code epoch}. */
    public static SplitMix64 random(final long jobSeed, final long epoch, final long sampleId)
    {
        return new SplitMix64(seed(jobSeed, epoch, sampleId));
    }
}
