package io.baton.trainer.data.image;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * What {@code baton prepare} does to one input file: decode it strictly (a damaged file is an {@link IOException}),
 * and either keep the original bytes or, when its shorter side exceeds the limit, shrink it (antialiased bilinear) so
 * the shorter side equals the limit and re-encode it as an RGB JPEG of the given quality. Thread-safe.
 */
public final class SampleTranscoder
{
    private final ImageDecoder decoder;
    private final int maxShorterSide;
    private final int jpegQuality;

    /**
     * @param decoder        decoder used for validation.
     * @param maxShorterSide shrink images whose shorter side is larger; 0 keeps every image as it is.
     * @param jpegQuality    quality 1..100 of re-encoded images.
     */
    public SampleTranscoder(final ImageDecoder decoder, final int maxShorterSide, final int jpegQuality)
    {
        if (maxShorterSide < 0 || jpegQuality < 1 || jpegQuality > 100)
        {
            throw new IllegalArgumentException("maxShorterSide must be >= 0 and jpegQuality 1..100, maxShorterSide="
                + maxShorterSide + ", jpegQuality=" + jpegQuality);
        }
        this.decoder = decoder;
        this.maxShorterSide = maxShorterSide;
        this.jpegQuality = jpegQuality;
    }

    /** The bytes to store for an input file; throws if the file is not a readable image. */
    public byte[] transcode(final byte[] original) throws IOException
    {
        final RgbImage image = decoder.decodeStrict(original);
        final int shorter = Math.min(image.width(), image.height());
        if (maxShorterSide == 0 || shorter <= maxShorterSide)
        {
            return original;
        }
        final double scale = (double)maxShorterSide / shorter;
        final int w = image.width() <= image.height() ? maxShorterSide : (int)Math.rint(image.width() * scale);
        final int h = image.width() <= image.height() ? (int)Math.rint(image.height() * scale) : maxShorterSide;
        return encodeJpeg(Resampler.resize(image, w, h), jpegQuality);
    }

    /** Encodes an image as a baseline RGB (YCbCr) JPEG of quality 1..100. */
    public static byte[] encodeJpeg(final RgbImage image, final int quality) throws IOException
    {
        final BufferedImage buffered =
            new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
        final byte[] bgr = ((DataBufferByte)buffered.getRaster().getDataBuffer()).getData();
        final byte[] rgb = image.rgb();
        for (int i = 0; i < rgb.length; i += 3)
        {
            bgr[i] = rgb[i + 2];
            bgr[i + 1] = rgb[i + 1];
            bgr[i + 2] = rgb[i];
        }
        final ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes))
        {
            final ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
            writer.setOutput(out);
            writer.write(null, new IIOImage(buffered, null, null), param);
        }
        finally
        {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
