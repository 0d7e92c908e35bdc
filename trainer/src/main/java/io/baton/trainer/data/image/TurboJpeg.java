package io.baton.trainer.data.image;

import org.bytedeco.leptonica.PIX;
import org.bytedeco.leptonica.global.lept;

import javax.imageio.IIOException;

/**
 * JPEG decoding through libjpeg-turbo (1.5.3, SIMD), linked into the natives of JavaCPP's Leptonica preset
 * ({@code org.bytedeco:leptonica}, the same JavaCPP 1.5.7 as ND4J). Decodes baseline and progressive YCbCr and
 * grayscale JPEGs, optionally scaled by 1/2, 1/4 or 1/8 in the DCT domain (libjpeg's scaled IDCT). Which files
 * come here is {@link JpegHeader#decodesAsTheJdkReader}'s decision (CMYK/YCCK never do). The fallback of
 * {@link SystemTurboJpeg}, the host's libjpeg-turbo 2, whose output it equals, scaled or not (TurboJpegTest).
 *
 * <p>Thread-safe: every call has its own libjpeg decompressor.
 */
final class TurboJpeg
{
    private TurboJpeg()
    {
    }

    /** Null when the natives loaded, else why not (one line). */
    static String unavailableReason()
    {
        return Natives.FAILURE;
    }

    /**
     * Decodes a 1- or 3-component JPEG scaled by {@code 1 / reduction}. Strict: any libjpeg warning (premature end of
     * data, corrupt entropy data...) is an error naming the count; lenient: the decoder's best effort is returned, as
     * the JDK reader does.
     */
    static RgbImage decode(final byte[] encoded, final int reduction, final boolean strict) throws IIOException
    {
        final int[] warnings = new int[1];
        final PIX pix = lept.pixReadMemJpeg(encoded, encoded.length, 0, reduction, warnings,
            strict ? 0 : lept.L_JPEG_CONTINUE_WITH_BAD_DATA);
        if (pix == null || pix.isNull())
        {
            throw new IIOException(warnings[0] > 0
                ? "damaged image: libjpeg-turbo reported " + warnings[0] + " warning(s) of bad data"
                : "undecodable image: libjpeg-turbo could not decode " + encoded.length + " bytes");
        }
        try
        {
            if (strict && warnings[0] > 0)
            {
                throw new IIOException("damaged image: libjpeg-turbo reported " + warnings[0]
                    + " warning(s) of bad data");
            }
            return toRgb(pix);
        }
        finally
        {
            lept.pixDestroy(pix);
        }
    }

    /** Leptonica's 32 bpp words are 0xRRGGBBAA; 8 bpp samples are big-endian bytes within 32-bit words. */
    private static RgbImage toRgb(final PIX pix) throws IIOException
    {
        final int width = lept.pixGetWidth(pix);
        final int height = lept.pixGetHeight(pix);
        final int depth = lept.pixGetDepth(pix);
        final int wpl = lept.pixGetWpl(pix);
        if (depth != 32 && depth != 8 || lept.pixGetColormap(pix) != null && !lept.pixGetColormap(pix).isNull())
        {
            throw new IIOException("unexpected libjpeg-turbo output of depth " + depth);
        }
        final int[] words = new int[wpl * height];
        lept.pixGetData(pix).get(words); // one copy out of native memory
        final byte[] rgb = new byte[width * height * 3];
        for (int y = 0, o = 0; y < height; y++)
        {
            final int row = y * wpl;
            if (depth == 32)
            {
                for (int x = 0; x < width; x++, o += 3)
                {
                    final int word = words[row + x];
                    rgb[o] = (byte)(word >>> 24);
                    rgb[o + 1] = (byte)(word >>> 16);
                    rgb[o + 2] = (byte)(word >>> 8);
                }
            }
            else
            {
                for (int x = 0; x < width; x++, o += 3)
                {
                    final byte v = (byte)(words[row + (x >> 2)] >>> (24 - ((x & 3) << 3)));
                    rgb[o] = v;
                    rgb[o + 1] = v;
                    rgb[o + 2] = v;
                }
            }
        }
        return new RgbImage(width, height, rgb);
    }

    /** Loads the natives once; a failure (another OS or architecture, a missing jar) is remembered as its reason. */
    private static final class Natives
    {
        static final String FAILURE = load();

        private static String load()
        {
            try
            {
                // Leptonica's own messages ("Error in pixReadMemJpeg...") would go to stderr; errors are reported here.
                lept.setMsgSeverity(lept.L_SEVERITY_NONE);
                return null;
            }
            catch (final LinkageError | RuntimeException ex)
            {
                return ex.getClass().getSimpleName() + ": " + ex.getMessage();
            }
        }
    }
}
