package io.baton.trainer.data.image;

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

    /** Floats per sample. */
    default int sampleLength()
    {
        return 3 * outputSize() * outputSize();
    }
}
