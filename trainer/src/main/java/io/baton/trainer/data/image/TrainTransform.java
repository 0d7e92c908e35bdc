package io.baton.trainer.data.image;

import io.baton.trainer.data.AugmentationSeeds;
import io.baton.trainer.data.SplitMix64;

/**
 * Training augmentation: {@link RandomResizedCrop} resized to {@code size x size} (antialiased bilinear), a
 * horizontal flip with probability 1/2, ImageNet normalisation. The generator of a sample is
 * {@link AugmentationSeeds#random(long, long, long)} of (seed, epoch, sample id) — nested SplitMix64 derivations —
 * and draws crop then flip, so the pixels do not depend on which replica, thread or loader decodes the sample.
 * Thread-safe (stateless).
 */
public final class TrainTransform implements ImageTransform
{
    private final int size;
    private final long seed;

    public TrainTransform(final int size, final long seed)
    {
        if (size <= 0)
        {
            throw new IllegalArgumentException("size must be > 0, size=" + size);
        }
        this.size = size;
        this.seed = seed;
    }

    @Override
    public int outputSize()
    {
        return size;
    }

    /** The crop and flip of a sample, as {@link #apply} draws them. */
    public Augmentation augmentation(final int width, final int height, final long sampleId, final long epoch)
    {
        final SplitMix64 random = AugmentationSeeds.random(seed, epoch, sampleId);
        final CropBox crop = RandomResizedCrop.sample(width, height, random);
        final boolean flip = random.nextDouble() < 0.5;
        return new Augmentation(crop, flip);
    }

    @Override
    public void apply(final RgbImage image, final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        final Augmentation a = augmentation(image.width(), image.height(), sampleId, epoch);
        final CropBox crop = a.crop();
        final float[] rgb = Resampler.resample(image, crop.left(), crop.top(), crop.width(), crop.height(), size, size);
        ImageTransform.normalise(rgb, size, a.flip(), dst, offset);
    }

    /**
     * The random part of one sample's transform.
     *
     * @param crop the crop in source pixels.
     * @param flip whether the output is mirrored left-right.
     */
    public record Augmentation(CropBox crop, boolean flip)
    {
    }
}
