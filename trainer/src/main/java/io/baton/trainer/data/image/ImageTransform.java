package io.baton.trainer.data.image;

import java.io.IOException;

/**
 * Turns a decoded image into the network's input: {@code 3 x size x size} floats, channel-major (NCHW without N),
 * normalised with a per-channel mean and standard deviation ({@link TransformSpec}). Implementations are stateless
 * and thread-safe; any randomness is a function of (seed, epoch, sample id) only.
 */
public interface ImageTransform
{
    /** Side of the square output. */
    int outputSize();

    /** Writes the {@code 3 * size * size} floats of {@code sampleId}'s input in {@code epoch} at {@code offset}. */
    void apply(RgbImage image, long sampleId, long epoch, float[] dst, int offset);

    /**
     * Decodes {@code encoded} and applies the transform. When the decoder offers a DCT-domain reduction for the file
     * ({@link ImageDecoder#reducibleSize}, only with {@code data.jpeg-dct-scaling} on) the transform picks the factor
     * ({@link #reduction}) from the full image size and its own parameters and draws, never from timing or thread, so
     * the output stays a function of (seed, epoch, sample).
     */
    default void decodeAndApply(final ImageDecoder decoder, final byte[] encoded, final long sampleId,
        final long epoch, final float[] dst, final int offset) throws IOException
    {
        final int[] size = decoder.reducibleSize(encoded);
        final int reduction = size == null ? 1 : reduction(size[0], size[1], sampleId, epoch);
        if (reduction == 1)
        {
            apply(decoder.decode(encoded), sampleId, epoch, dst, offset);
        }
        else
        {
            applyReduced(decoder.decodeReduced(encoded, reduction), reduction, size[0], size[1], sampleId, epoch, dst,
                offset);
        }
    }

    /**
     * The factor (1, 2, 4 or 8) by which a {@code width x height} image may be decoded smaller for this sample, a pure
     * function of the arguments and the transform's parameters; 1 (full size) unless the transform overrides it.
     */
    default int reduction(final int width, final int height, final long sampleId, final long epoch)
    {
        return 1;
    }

    /**
     * {@link #apply} for an image decoded at {@code 1 / reduction} of {@code fullWidth x fullHeight} ({@code
     * ceil(full / reduction)} pixels); only called with a {@link #reduction} above 1.
     */
    default void applyReduced(final RgbImage reduced, final int reduction, final int fullWidth, final int fullHeight,
        final long sampleId, final long epoch, final float[] dst, final int offset)
    {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not decode reduced images");
    }

    /** Floats per sample. */
    default int sampleLength()
    {
        return 3 * outputSize() * outputSize();
    }
}
