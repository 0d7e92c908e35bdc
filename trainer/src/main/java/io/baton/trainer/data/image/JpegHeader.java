package io.baton.trainer.data.image;

/**
 * What a JPEG's markers before its first scan say about how it must be decoded: its frame (coding process, precision,
 * size, components and their sampling factors) and whether it carries an ICC profile or an Adobe colour transform.
 * Parsed in Java from the bytes, without decoding.
 *
 * @param sofMarker   the frame's marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive, ...), 0 if none was found.
 * @param precision   bits per sample.
 * @param width       pixels per row.
 * @param height      rows.
 * @param components  components in the frame.
 * @param sampling    per component, {@code H << 4 | V}.
 * @param iccProfile  an APP2 ICC_PROFILE segment is present.
 * @param adobe       an APP14 Adobe segment is present.
 */
record JpegHeader(int sofMarker, int precision, int width, int height, int components, int[] sampling,
                  boolean iccProfile, boolean adobe)
{
    /** The header of {@code jpeg}, or null when its markers end or break before a frame header. */
    static JpegHeader parse(final byte[] jpeg)
    {
        boolean icc = false;
        boolean adobe = false;
        int p = 2;
        while (p + 4 <= jpeg.length)
        {
            if ((jpeg[p] & 0xFF) != 0xFF)
            {
                return null;
            }
            final int marker = jpeg[p + 1] & 0xFF;
            if (marker == 0xFF)
            {
                p++; // fill byte
                continue;
            }
            if (marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01)
            {
                p += 2; // standalone markers
                continue;
            }
            if (marker == 0xD9 || marker == 0xDA)
            {
                return null; // end of image, or a scan before any frame header
            }
            final int length = (jpeg[p + 2] & 0xFF) << 8 | jpeg[p + 3] & 0xFF;
            final int body = p + 4;
            if (length < 2 || p + 2 + length > jpeg.length)
            {
                return null;
            }
            if (marker == 0xE2 && startsWith(jpeg, body, "ICC_PROFILE"))
            {
                icc = true;
            }
            else if (marker == 0xEE && startsWith(jpeg, body, "Adobe"))
            {
                adobe = true;
            }
            else if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
            {
                if (length < 8)
                {
                    return null;
                }
                final int n = jpeg[body + 5] & 0xFF;
                if (length < 8 + 3 * n)
                {
                    return null;
                }
                final int[] sampling = new int[n];
                for (int c = 0; c < n; c++)
                {
                    sampling[c] = jpeg[body + 6 + 3 * c + 1] & 0xFF;
                }
                // ICC and Adobe segments may follow the frame header; read on to the first scan.
                final JpegHeader rest = markersUpToScan(jpeg, p + 2 + length, icc, adobe);
                return new JpegHeader(marker, jpeg[body] & 0xFF, (jpeg[body + 3] & 0xFF) << 8 | jpeg[body + 4] & 0xFF,
                    (jpeg[body + 1] & 0xFF) << 8 | jpeg[body + 2] & 0xFF, n, sampling, rest.iccProfile, rest.adobe);
            }
            p += 2 + length;
        }
        return null;
    }

    private static JpegHeader markersUpToScan(final byte[] jpeg, final int from, final boolean icc,
        final boolean adobe)
    {
        boolean seenIcc = icc;
        boolean seenAdobe = adobe;
        int p = from;
        while (p + 4 <= jpeg.length && (jpeg[p] & 0xFF) == 0xFF)
        {
            final int marker = jpeg[p + 1] & 0xFF;
            if (marker == 0xDA || marker == 0xD9 || marker == 0xFF || marker >= 0xD0 && marker <= 0xD8)
            {
                break;
            }
            final int length = (jpeg[p + 2] & 0xFF) << 8 | jpeg[p + 3] & 0xFF;
            seenIcc |= marker == 0xE2 && startsWith(jpeg, p + 4, "ICC_PROFILE");
            seenAdobe |= marker == 0xEE && startsWith(jpeg, p + 4, "Adobe");
            p += 2 + Math.max(length, 2);
        }
        return new JpegHeader(0, 0, 0, 0, 0, new int[0], seenIcc, seenAdobe);
    }

    private static boolean startsWith(final byte[] bytes, final int at, final String ascii)
    {
        if (at + ascii.length() > bytes.length)
        {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++)
        {
            if (bytes[at + i] != ascii.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * True when libjpeg-turbo decodes this file to exactly the JDK reader's pixels, as measured (TurboJpegTest):
     * 8-bit Huffman baseline or progressive, grayscale, or YCbCr with chroma at 4:4:4, 4:2:2 or 4:2:0 and no ICC profile
     * (the JDK reader colour-converts through one) or Adobe segment (its transform flag picks the colour space).
     * libjpeg-turbo 1.5's 4:4:0 (1x2 luma) upsampling differs from the JDK's libjpeg 6b by up to 2 levels (2.1.5's
     * does not, but a host without it decodes with 1.5.3, so 4:4:0 stays the JDK's: the same pixels everywhere), and
     * arithmetic coding, 12-bit samples and CMYK/YCCK are the JDK's to decode or refuse.
     */
    boolean decodesAsTheJdkReader()
    {
        if (precision != 8 || sofMarker < 0xC0 || sofMarker > 0xC2 || iccProfile || adobe)
        {
            return false;
        }
        if (components == 1)
        {
            return true;
        }
        if (components != 3 || sampling[1] != 0x11 || sampling[2] != 0x11)
        {
            return false;
        }
        return sampling[0] == 0x11 || sampling[0] == 0x21 || sampling[0] == 0x22;
    }
}
