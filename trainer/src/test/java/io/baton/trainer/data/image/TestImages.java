package io.baton.trainer.data.image;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.RenderedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Random;

/** Generated test images: smooth colour gradients with noise, encoded as JPEG or PNG; CMYK JPEGs from a raster. */
public final class TestImages
{
    private TestImages()
    {
    }

    /** An RGB picture: gradients plus a little noise, seeded. */
    public static BufferedImage picture(final int width, final int height, final long seed)
    {
        final Random random = new Random(seed);
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        final int phase = random.nextInt(256);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final int r = (x * 255 / width + phase) & 0xFF;
                final int g = y * 255 / height;
                final int b = ((x + y) * 3 + random.nextInt(16)) & 0xFF;
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return image;
    }

    /** A grayscale picture. */
    public static BufferedImage gray(final int width, final int height)
    {
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        final WritableRaster raster = image.getRaster();
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                raster.setSample(x, y, 0, (x + y) * 255 / (width + height));
            }
        }
        return image;
    }

    /** A uniform image of one colour. */
    public static BufferedImage uniform(final int width, final int height, final int rgb)
    {
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image.setRGB(x, y, rgb);
            }
        }
        return image;
    }

    /** JPEG bytes of an image (the JDK's writer). */
    public static byte[] jpeg(final RenderedImage image, final int quality) throws IOException
    {
        return writeJpeg(new IIOImage(image, null, null), quality);
    }

    /** PNG bytes of an image. */
    public static byte[] png(final RenderedImage image) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    /**
     * A 4-component CMYK JPEG of one colour as Photoshop writes them: the JDK's writer encodes the raw raster (values
     * stored as given, no colour transform), then an Adobe APP14 marker with transform 0 is inserted after SOI, so
     * readers treat the values as Adobe-inverted CMYK (255 = no ink).
     */
    public static byte[] cmykJpeg(final int width, final int height, final int[] storedCmyk) throws IOException
    {
        final WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, width, height, 4, null);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                raster.setPixel(x, y, storedCmyk);
            }
        }
        final byte[] plain = writeJpeg(new IIOImage(raster, null, null), 95);
        final byte[] adobe = {(byte)0xFF, (byte)0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        final byte[] out = new byte[plain.length + adobe.length];
        System.arraycopy(plain, 0, out, 0, 2);
        System.arraycopy(adobe, 0, out, 2, adobe.length);
        System.arraycopy(plain, 2, out, 2 + adobe.length, plain.length - 2);
        return out;
    }

    private static byte[] writeJpeg(final IIOImage image, final int quality) throws IOException
    {
        final ImageWriter writer = jdkJpegWriter();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out))
        {
            final ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
            writer.setOutput(stream);
            writer.write(null, image, param);
        }
        finally
        {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static ImageWriter jdkJpegWriter()
    {
        final Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        while (writers.hasNext())
        {
            final ImageWriter writer = writers.next();
            if (writer.getClass().getName().startsWith("com.sun.imageio"))
            {
                return writer;
            }
        }
        throw new IllegalStateException("no JDK JPEG writer");
    }
}
