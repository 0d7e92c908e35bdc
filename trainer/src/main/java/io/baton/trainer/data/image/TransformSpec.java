package io.baton.trainer.data.image;

import java.util.Arrays;
import java.util.List;

/**
 * The configurable part of the input pipeline (the data.augment.* and data.normalise.* keys): RandomResizedCrop's
 * area scale and aspect-ratio ranges, or a CIFAR-style pad-and-random-crop instead; the horizontal flip; the
 * evaluation resize ratio; the per-channel mean and standard deviation. {@link #IMAGENET} is torchvision's ImageNet
 * recipe, the defaults, which reproduce Baton's transforms from before these were keys bit for bit.
 *
 * @param scaleMin        smallest crop area as a fraction of the image (RandomResizedCrop), 0 < min <= max <= 1.
 * @param scaleMax        largest crop area fraction.
 * @param ratioMin        smallest crop aspect ratio (width / height), 0 < min <= max.
 * @param ratioMax        largest crop aspect ratio.
 * @param padCrop         0: RandomResizedCrop; n > 0: resize to the output size, pad n black pixels on each side and
 *                        crop the output size at a random offset (CIFAR style) instead.
 * @param flip            mirror left-right with probability 1/2.
 * @param evalResizeRatio evaluation resizes the shorter side to {@code round(size * ratio)} and center-crops;
 *                        NaN = no resize and crop: the whole image resized to {@code size x size}.
 * @param mean            per-channel (R, G, B) mean of pixels in 0..1, subtracted.
 * @param std             per-channel standard deviation, divided by.
 */
public record TransformSpec(
    double scaleMin,
    double scaleMax,
    double ratioMin,
    double ratioMax,
    int padCrop,
    boolean flip,
    double evalResizeRatio,
    float[] mean,
    float[] std)
{
    /** torchvision's ImageNet training and evaluation recipe, Baton's defaults. */
    public static final TransformSpec IMAGENET = new TransformSpec(RandomResizedCrop.SCALE_MIN,
        RandomResizedCrop.SCALE_MAX, RandomResizedCrop.RATIO_MIN, RandomResizedCrop.RATIO_MAX, 0, true, 256.0 / 224.0,
        new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    public TransformSpec
    {
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1))
        {
            throw new IllegalArgumentException("scale must satisfy 0 < min <= max <= 1, scale=[" + scaleMin + ", "
                + scaleMax + "]");
        }
        if (!(ratioMin > 0 && ratioMin <= ratioMax && Double.isFinite(ratioMax)))
        {
            throw new IllegalArgumentException("ratio must satisfy 0 < min <= max, ratio=[" + ratioMin + ", "
                + ratioMax + "]");
        }
        if (padCrop < 0)
        {
            throw new IllegalArgumentException("padCrop must be >= 0, padCrop=" + padCrop);
        }
        if (!Double.isNaN(evalResizeRatio) && !(evalResizeRatio >= 1 && Double.isFinite(evalResizeRatio)))
        {
            throw new IllegalArgumentException("evalResizeRatio must be >= 1 or NaN (none), evalResizeRatio="
                + evalResizeRatio);
        }
        if (mean.length != 3 || std.length != 3)
        {
            throw new IllegalArgumentException("mean and std need 3 channels, mean=" + Arrays.toString(mean)
                + ", std=" + Arrays.toString(std));
        }
        for (int c = 0; c < 3; c++)
        {
            if (!Float.isFinite(mean[c]) || !(std[c] > 0 && Float.isFinite(std[c])))
            {
                throw new IllegalArgumentException("mean must be finite and std > 0, mean=" + Arrays.toString(mean)
                    + ", std=" + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The spec of the configuration's key values ({@code evalResizeRatio} null = none). */
    public static TransformSpec of(
        final List<Double> scale,
        final List<Double> ratio,
        final int padCrop,
        final boolean flip,
        final Double evalResizeRatio,
        final List<Double> mean,
        final List<Double> std)
    {
        return new TransformSpec(scale.get(0), scale.get(1), ratio.get(0), ratio.get(1), padCrop, flip,
            evalResizeRatio == null ? Double.NaN : evalResizeRatio, floats(mean), floats(std));
    }

    @Override
    public float[] mean()
    {
        return mean.clone();
    }

    @Override
    public float[] std()
    {
        return std.clone();
    }

    /** Whether evaluation resizes the shorter side and center-crops (false: the whole image is resized). */
    public boolean evalResizes()
    {
        return !Double.isNaN(evalResizeRatio);
    }

    /**
     * Normalises interleaved RGB samples (0..255) of a {@code size x size} image into channel-major {@code dst},
     * mirrored left-right when {@code mirror}: {@code (v / 255 - mean) / std} per channel, computed in float as
     * {@code v * (1 / (255 * std)) - mean / std}.
     */
    public void normalise(final float[] rgb, final int size, final boolean mirror, final float[] dst, final int offset)
    {
        final int plane = size * size;
        for (int c = 0; c < 3; c++)
        {
            final float scale = 1f / (255f * std[c]);
            final float shift = mean[c] / std[c];
            final int base = offset + c * plane;
            for (int y = 0; y < size; y++)
            {
                final int row = y * size;
                for (int x = 0; x < size; x++)
                {
                    final int sx = mirror ? size - 1 - x : x;
                    dst[base + row + x] = rgb[(row + sx) * 3 + c] * scale - shift;
                }
            }
        }
    }

    @Override
    public boolean equals(final Object o)
    {
        return o instanceof TransformSpec t && Double.compare(scaleMin, t.scaleMin) == 0
            && Double.compare(scaleMax, t.scaleMax) == 0 && Double.compare(ratioMin, t.ratioMin) == 0
            && Double.compare(ratioMax, t.ratioMax) == 0 && padCrop == t.padCrop && flip == t.flip
            && Double.compare(evalResizeRatio, t.evalResizeRatio) == 0 && Arrays.equals(mean, t.mean)
            && Arrays.equals(std, t.std);
    }

    @Override
    public int hashCode()
    {
        return Arrays.hashCode(new double[] {scaleMin, scaleMax, ratioMin, ratioMax, padCrop, flip ? 1 : 0,
            evalResizeRatio}) * 31 * 31 + Arrays.hashCode(mean) * 31 + Arrays.hashCode(std);
    }

    @Override
    public String toString()
    {
        return "TransformSpec[scale=[" + scaleMin + ", " + scaleMax + "], ratio=[" + ratioMin + ", " + ratioMax
            + "], padCrop=" + padCrop + ", flip=" + flip + ", evalResizeRatio="
            + (evalResizes() ? evalResizeRatio : "none") + ", mean=" + Arrays.toString(mean) + ", std="
            + Arrays.toString(std) + "]";
    }

    private static float[] floats(final List<Double> values)
    {
        final float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++)
        {
            out[i] = values.get(i).floatValue();
        }
        return out;
    }
}
