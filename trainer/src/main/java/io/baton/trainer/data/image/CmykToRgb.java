package io.baton.trainer.data.image;

import java.awt.image.Raster;

/**
 * Converts the raw 4-channel raster of a CMYK or YCCK JPEG (as {@code ImageReader.readRaster} returns it, no color
 * conversion applied) to RGB, without an ICC profile (the naive formulas most decoders use). Adobe files (APP14
 * marker) store CMYK inverted; YCCK (Adobe transform 2) is YCbCr-coded inverted CMY plus inverted K. Stateless.
 */
public final class CmykToRgb
{
    private CmykToRgb()
    {
    }

    /** Adobe APP14 color transform of a JPEG: 0 = CMYK/RGB, 1 = YCbCr, 2 = YCCK; -1 when there is no marker. */
    public static int adobeTransform(final byte[] jpeg)
    {
        int at = 2;
        while (at + 4 <= jpeg.length && (jpeg[at] & 0xFF) == 0xFF)
        {
            final int marker = jpeg[at + 1] & 0xFF;
            if (marker == 0xDA || marker == 0xD9)
            {
                break;
            }
            final int length = (jpeg[at + 2] & 0xFF) << 8 | jpeg[at + 3] & 0xFF;
            if (marker == 0xEE && length >= 12 && at + 4 + 11 < jpeg.length
                && jpeg[at + 4] == 'A' && jpeg[at + 5] == 'd' && jpeg[at + 6] == 'o' && jpeg[at + 7] == 'b'
                && jpeg[at + 8] == 'e')
            {
                return jpeg[at + 4 + 11] & 0xFF;
            }
            at += 2 + length;
        }
        return -1;
    }

    /** RGB of a 4-band raster; {@code adobeTransform} from {@link #adobeTransform(byte[])}. */
    public static RgbImage convert(final Raster raster, final int adobeTransform)
    {
        final int width = raster.getWidth();
        final int height = raster.getHeight();
        final byte[] rgb = new byte[width * height * 3];
        final int[] row = new int[width * 4];
        for (int y = 0; y < height; y++)
        {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int x = 0; x < width; x++)
            {
                final int a = row[4 * x];
                final int b = row[4 * x + 1];
                final int c = row[4 * x + 2];
                final int k = row[4 * x + 3];
                final int o = (y * width + x) * 3;
                if (adobeTransform == 2)
                {
                    // YCbCr -> inverted C, M, Y (JFIF equations); K is stored inverted
                    final double yy = a;
                    final double cb = b - 128.0;
                    final double cr = c - 128.0;
                    rgb[o] = (byte)(clamp(yy + 1.402 * cr) * k / 255);
                    rgb[o + 1] = (byte)(clamp(yy - 0.344136 * cb - 0.714136 * cr) * k / 255);
                    rgb[o + 2] = (byte)(clamp(yy + 1.772 * cb) * k / 255);
                }
                else if (adobeTransform >= 0)
                {
                    rgb[o] = (byte)(a * k / 255);
                    rgb[o + 1] = (byte)(b * k / 255);
                    rgb[o + 2] = (byte)(c * k / 255);
                }
                else
                {
                    rgb[o] = (byte)((255 - a) * (255 - k) / 255);
                    rgb[o + 1] = (byte)((255 - b) * (255 - k) / 255);
                    rgb[o + 2] = (byte)((255 - c) * (255 - k) / 255);
                }
            }
        }
        return new RgbImage(width, height, rgb);
    }

    private static int clamp(final double v)
    {
        return v <= 0 ? 0 : v >= 255 ? 255 : (int)Math.round(v);
    }
}
