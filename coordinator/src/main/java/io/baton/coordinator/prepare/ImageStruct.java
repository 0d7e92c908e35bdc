package io.baton.coordinator.prepare;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Spark's image struct (the {@code image} data source's column: origin, height, width, nChannels, mode, data) as an
 * encoded image. {@code prepare} stores such an image as a PNG in its shards, and inference encodes it the same way
 * before decoding, so a struct column is scored on exactly the pixels training saw. Stateless; any thread.
 */
public final class ImageStruct
{
    private static final List<String> FIELDS = List.of("origin", "height", "width", "nChannels", "data");

    private ImageStruct()
    {
    }

    /** Whether {@code type} is Spark's image struct (it has the fields Baton reads). */
    public static boolean is(final DataType type)
    {
        return type instanceof StructType struct && Arrays.asList(struct.fieldNames()).containsAll(FIELDS);
    }

    /** Spark's image struct (BGR or BGRA or gray, 8 bits, row-major) as a PNG file. */
    public static byte[] png(final Row struct) throws IOException
    {
        final int height = struct.getAs("height");
        final int width = struct.getAs("width");
        final int channels = struct.getAs("nChannels");
        final byte[] data = struct.getAs("data");
        if (height <= 0 || width <= 0 || data == null || data.length != (long)height * width * channels)
        {
            throw new IOException("not a decoded image: " + width + "x" + height + "x" + channels + " with "
                + (data == null ? 0 : data.length) + " bytes of data");
        }
        final BufferedImage picture;
        switch (channels)
        {
            case 1 -> {
                picture = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
                System.arraycopy(data, 0, pixels(picture), 0, data.length);
            }
            case 3 -> {
                picture = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
                System.arraycopy(data, 0, pixels(picture), 0, data.length);
            }
            case 4 -> {
                picture = new BufferedImage(width, height, BufferedImage.TYPE_4BYTE_ABGR);
                final byte[] abgr = pixels(picture);
                for (int i = 0; i < data.length; i += 4)
                {
                    abgr[i] = data[i + 3];
                    abgr[i + 1] = data[i];
                    abgr[i + 2] = data[i + 1];
                    abgr[i + 3] = data[i + 2];
                }
            }
            default -> throw new IOException("image struct with " + channels + " channels; Baton reads 1, 3 or 4");
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(picture, "png", out);
        return out.toByteArray();
    }

    private static byte[] pixels(final BufferedImage picture)
    {
        return ((DataBufferByte)picture.getRaster().getDataBuffer()).getData();
    }
}
