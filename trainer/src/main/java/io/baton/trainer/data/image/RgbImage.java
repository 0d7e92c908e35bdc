package io.baton.trainer.data.image;

/**
 * A decoded 8-bit RGB image, pixels interleaved R, G, B row by row ({@code rgb.length == width * height * 3}).
 * Treated as immutable once built.
 *
 * @param width  pixels per row.
 * @param height rows.
 * @param rgb    interleaved samples.
 */
public record RgbImage(int width, int height, byte[] rgb)
{
    public RgbImage
    {
        if (width <= 0 || height <= 0 || rgb.length != width * height * 3)
        {
            throw new IllegalArgumentException("bad image: width=" + width + ", height=" + height + ", samples="
                + rgb.length);
        }
    }

    /** Sample {@code channel} (0 = R) of pixel (x, y), 0..255. */
    public int sample(final int x, final int y, final int channel)
    {
        return rgb[(y * width + x) * 3 + channel] & 0xFF;
    }
}
