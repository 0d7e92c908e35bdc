package io.baton.trainer.data.image;

/**
 * Evaluation transform: resize the shorter side to {@code round(size * 256 / 224)} (the longer side scaled and
 * truncated, as torchvision's {@code Resize(int)}), center crop {@code size x size} (torchvision's rounding),
 * ImageNet normalisation; resize and crop are one resampling pass. Deterministic and thread-safe.
 */
public final class ValTransform implements ImageTransform
{
    private final int size;
    private final int resizeTo;

    public ValTransform(final int size)
    {
        if (size <= 0)
        {
            throw new IllegalArgumentException("size must be > 0, size=" + size);
        }
        this.size = size;
        this.resizeTo = (int)Math.rint(size * 256.0 / 224.0);
    }

    @Override
    public int outputSize()
    {
        return size;
    }

    /** Side the shorter image side is resized to before the center crop. */
    public int resizeTo()
    {
        return resizeTo;
    }

    @Override
    public void apply(final RgbImage image, final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        final int w = image.width();
        final int h = image.height();
        final int newW = w <= h ? resizeTo : (int)((long)resizeTo * w / h);
        final int newH = w <= h ? (int)((long)resizeTo * h / w) : resizeTo;
        final int cropSide = Math.min(size, Math.min(newW, newH));
        final int top = (int)Math.rint((newH - cropSide) / 2.0);
        final int left = (int)Math.rint((newW - cropSide) / 2.0);
        final double sx = (double)w / newW;
        final double sy = (double)h / newH;
        final float[] rgb = Resampler.resample(image, left * sx, top * sy, cropSide * sx, cropSide * sy, size, size);
        ImageTransform.normalise(rgb, size, false, dst, offset);
    }
}
