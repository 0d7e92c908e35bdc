package io.baton.trainer.data.image;

/**
 * Turns a decoded image into the network's input: {@code 3 x size x size} floats, channel-major (NCHW without N),
 * normalised with the ImageNet mean and standard deviation. Implementations are stateless and thread-safe; any
 * randomness is a function of (seed, epoch, sample id) only.
 */
public interface ImageTransform
{
    /** ImageNet per-channel mean of RGB in 0..1. */
    float[] MEAN = {0.485f, 0.456f, 0.406f};
    /** ImageNet per-channel standard deviation of RGB in 0..1. */
    float[] STD = {0.229f, 0.224f, 0.225f};

    /** Side of the square output. */
    int outputSize();

    /** Writes the {@code 3 * size * size} floats of {@code sampleId}'s input in {@code epoch} at {@code offset}. */
    void apply(RgbImage image, long sampleId, long epoch, float[] dst, int offset);

    /** Floats per sample. */
    default int sampleLength()
    {
        return 3 * outputSize() * outputSize();
    }

    /**
     * Normalises interleaved RGB samples (0..255) of a {@code size x size} image into channel-major {@code dst},
     * mirrored left-right when {@code flip}.
     */
    static void normalise(final float[] rgb, final int size, final boolean flip, final float[] dst, final int offset)
    {
        final int plane = size * size;
        for (int c = 0; c < 3; c++)
        {
            final float scale = 1f / (255f * STD[c]);
            final float shift = MEAN[c] / STD[c];
            final int base = offset + c * plane;
            for (int y = 0; y < size; y++)
            {
                final int row = y * size;
                for (int x = 0; x < size; x++)
                {
                    final int sx = flip ? size - 1 - x : x;
                    dst[base + row + x] = rgb[(row + sx) * 3 + c] * scale - shift;
                }
            }
        }
    }
}
