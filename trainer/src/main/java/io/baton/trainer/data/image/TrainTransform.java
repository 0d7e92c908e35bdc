package io.baton.trainer.data.image;

import io.baton.trainer.data.AugmentationSeeds;
import io.baton.trainer.data.SplitMix64;

/**
 * Training augmentation, as a {@link TransformSpec} says: {@link RandomResizedCrop} resized to {@code size x size}
 * (antialiased bilinear) or, with a pad-crop of n pixels, the image resized to {@code size x size}, padded with n
 * black pixels on each side and cropped back at a random offset (CIFAR style); then a horizontal flip with
 * probability 1/2 (when on) and normalisation. The generator of a sample is
 * {@link AugmentationSeeds#random(long, long, long)} of (seed, epoch, sample id) — nested SplitMix64 derivations —
 * and draws crop then flip, so the pixels do not depend on which replica, thread or loader decodes the sample.
 * {@link TransformSpec#IMAGENET} gives Baton's original transform bit for bit. Thread-safe: its only state is a
 * per-thread array the resampled crop passes through on its way to {@code dst}.
 */
public final class TrainTransform implements ImageTransform
{
    private final int size;
    private final long seed;
    private final TransformSpec spec;
    /** The resampled crop before normalisation, one array per loader thread (no ~600 kB allocation per image). */
    private final ThreadLocal<float[]> resampled;

    public TrainTransform(final int size, final long seed)
    {
        this(size, seed, TransformSpec.IMAGENET);
    }

    public TrainTransform(final int size, final long seed, final TransformSpec spec)
    {
        if (size <= 0)
        {
            throw new IllegalArgumentException("size must be > 0, size=" + size);
        }
        this.size = size;
        this.seed = seed;
        this.spec = spec;
        this.resampled = ThreadLocal.withInitial(() -> new float[size * size * 3]);
    }

    @Override
    public int outputSize()
    {
        return size;
    }

    /**
     * The crop and flip of a sample, as {@link #apply} draws them. With a pad-crop the crop is in the coordinates of
     * the image resized to {@code size x size} and may start at a negative offset (inside the padding).
     */
    public Augmentation augmentation(final int width, final int height, final long sampleId, final long epoch)
    {
        final SplitMix64 random = AugmentationSeeds.random(seed, epoch, sampleId);
        final CropBox crop;
        final int pad = spec.padCrop();
        if (pad > 0)
        {
            // torchvision's RandomCrop(size, padding=pad).get_params on the padded image: top, then left.
            final int top = random.nextInt(2 * pad + 1);
            final int left = random.nextInt(2 * pad + 1);
            crop = new CropBox(top - pad, left - pad, size, size);
        }
        else
        {
            crop = RandomResizedCrop.sample(width, height, random, spec.scaleMin(), spec.scaleMax(), spec.ratioMin(),
                spec.ratioMax());
        }
        final boolean flip = spec.flip() && random.nextDouble() < 0.5;
        return new Augmentation(crop, flip);
    }

    @Override
    public void apply(final RgbImage image, final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        final Augmentation a = augmentation(image.width(), image.height(), sampleId, epoch);
        final CropBox crop = a.crop();
        final float[] rgb = spec.padCrop() > 0 ? shifted(resized(image), crop)
            : Resampler.resample(image, crop.left(), crop.top(), crop.width(), crop.height(), size, size,
                resampled.get());
        spec.normalise(rgb, size, a.flip(), dst, offset);
    }

    /**
     * With RandomResizedCrop, the largest of 2, 4 and 8 by which the sample's crop, reduced, still has at least {@code
     * size} pixels on its shorter side, else 1: the DCT-domain reduction stands in for part of the antialiased
     * downscale and the remaining resampling never enlarges. A pad-crop always decodes at full size.
     */
    @Override
    public int reduction(final int width, final int height, final long sampleId, final long epoch)
    {
        if (spec.padCrop() > 0)
        {
            return 1;
        }
        final CropBox crop = augmentation(width, height, sampleId, epoch).crop();
        final int shorter = Math.min(crop.width(), crop.height());
        int reduction = 1;
        while (reduction < 8 && shorter >= 2L * reduction * size)
        {
            reduction *= 2;
        }
        return reduction;
    }

    /** The crop drawn on the full image's size, mapped onto the image decoded at {@code 1 / reduction}. */
    @Override
    public void applyReduced(final RgbImage reduced, final int reduction, final int fullWidth, final int fullHeight,
        final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        final Augmentation a = augmentation(fullWidth, fullHeight, sampleId, epoch);
        final CropBox crop = a.crop();
        final double r = reduction;
        final float[] rgb = Resampler.resample(reduced, crop.left() / r, crop.top() / r, crop.width() / r,
            crop.height() / r, size, size, resampled.get());
        spec.normalise(rgb, size, a.flip(), dst, offset);
    }

    /** Interleaved RGB floats of the image at {@code size x size}: its own samples when it already is that size. */
    private float[] resized(final RgbImage image)
    {
        if (image.width() == size && image.height() == size)
        {
            return Resampler.samples(image);
        }
        return Resampler.resample(image, 0, 0, image.width(), image.height(), size, size);
    }

    /** The {@code size x size} window at the crop's offset, black (0) outside the image. */
    private float[] shifted(final float[] rgb, final CropBox crop)
    {
        final float[] out = new float[rgb.length];
        for (int y = 0; y < size; y++)
        {
            final int sy = y + crop.top();
            if (sy < 0 || sy >= size)
            {
                continue;
            }
            for (int x = 0; x < size; x++)
            {
                final int sx = x + crop.left();
                if (sx >= 0 && sx < size)
                {
                    System.arraycopy(rgb, (sy * size + sx) * 3, out, (y * size + x) * 3, 3);
                }
            }
        }
        return out;
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
