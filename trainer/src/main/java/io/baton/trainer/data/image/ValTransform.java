package io.baton.trainer.data.image;

/**
 * Evaluation transform: resize the shorter side to {@code round(size * ratio)} (ImageNet: 256 / 224; the longer
 * side scaled and truncated, as torchvision's {@code Resize(int)}), center crop {@code size x size} (torchvision's
 * rounding), normalisation; resize and crop are one resampling pass. Without a ratio ({@link TransformSpec}'s
 * none) the whole image is resized to {@code size x size}, which leaves images of that size as they are.
 * Deterministic and thread-safe.
 */
public final class ValTransform implements ImageTransform
{
    private final int size;
    private final int resizeTo;
    private final TransformSpec spec;

    public ValTransform(final int size)
    {
        this(size, TransformSpec.IMAGENET);
    }

    public ValTransform(final int size, final TransformSpec spec)
    {
        if (size <= 0)
        {
            throw new IllegalArgumentException("size must be > 0, size=" + size);
        }
        this.size = size;
        this.spec = spec;
        // size * (256 / 224) may differ from the former size * 256 / 224 in the last bit, never in its rounding:
        // size * 8 / 7 is never within an ulp of k + 1/2.
        this.resizeTo = spec.evalResizes() ? (int)Math.rint(size * spec.evalResizeRatio()) : size;
    }

    @Override
    public int outputSize()
    {
        return size;
    }

    /** Side the shorter image side is resized to before the center crop ({@code size} without a resize ratio). */
    public int resizeTo()
    {
        return resizeTo;
    }

    @Override
    public void apply(final RgbImage image, final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        final int w = image.width();
        final int h = image.height();
        if (!spec.evalResizes())
        {
            final float[] rgb = w == size && h == size ? Resampler.samples(image)
                : Resampler.resample(image, 0, 0, w, h, size, size);
            spec.normalise(rgb, size, false, dst, offset);
            return;
        }
        final int newW = w <= h ? resizeTo : (int)((long)resizeTo * w / h);
        final int newH = w <= h ? (int)((long)resizeTo * h / w) : resizeTo;
        final int cropSide = Math.min(size, Math.min(newW, newH));
        final int top = (int)Math.rint((newH - cropSide) / 2.0);
        final int left = (int)Math.rint((newW - cropSide) / 2.0);
        final double sx = (double)w / newW;
        final double sy = (double)h / newH;
        final float[] rgb = Resampler.resample(image, left * sx, top * sy, cropSide * sx, cropSide * sy, size, size);
        spec.normalise(rgb, size, false, dst, offset);
    }
}
