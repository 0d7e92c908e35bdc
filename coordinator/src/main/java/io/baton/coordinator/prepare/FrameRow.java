package io.baton.coordinator.prepare;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reads the name, label and image of one row of a checked table ({@link FrameColumns#check}); runs in Spark tasks.
 * Stateless apart from the column positions.
 */
final class FrameRow implements Serializable
{
    private static final long serialVersionUID = 1L;

    private final FrameColumns columns;
    private final FrameColumns.ImageKind kind;
    private final int image;
    private final int label;
    private final int name;
    private final boolean integralLabel;

    FrameRow(final FrameColumns columns, final FrameColumns.ImageKind kind, final int image, final int label,
        final int name, final boolean integralLabel)
    {
        this.columns = columns;
        this.kind = kind;
        this.image = image;
        this.label = label;
        this.name = name;
        this.integralLabel = integralLabel;
    }

    FrameColumns.ImageKind kind()
    {
        return kind;
    }

    boolean integralLabel()
    {
        return integralLabel;
    }

    /** The row's name: the name column, else the path, the image struct's origin or the bytes' SHA-256; or null. */
    String name(final Row row)
    {
        if (name >= 0)
        {
            return row.isNullAt(name) ? null : row.getString(name);
        }
        if (row.isNullAt(image))
        {
            return null;
        }
        return switch (kind)
        {
            case PATH -> row.getString(image);
            case STRUCT -> row.getStruct(image).getAs("origin");
            case BYTES -> sha256((byte[])row.get(image));
        };
    }

    /** The label as text (the class name, or an integer label's decimal value), or null. */
    String label(final Row row)
    {
        if (columns.labelFromFolder())
        {
            final String path = name(row);
            if (path == null)
            {
                return null;
            }
            final int end = path.lastIndexOf('/');
            final int start = end <= 0 ? -1 : path.lastIndexOf('/', end - 1);
            return end <= 0 ? null : path.substring(start + 1, end);
        }
        if (row.isNullAt(label))
        {
            return null;
        }
        return integralLabel ? Long.toString(((Number)row.get(label)).longValue()) : row.getString(label);
    }

    /** Why the row cannot be a sample before it is read (null label or image), or null. */
    String problem(final Row row)
    {
        if (row.isNullAt(image))
        {
            return "null image in column '" + columns.image() + "'";
        }
        if (label(row) == null)
        {
            return columns.labelFromFolder() ? "no parent folder in its name to label it"
                : "null label in column '" + columns.label() + "'";
        }
        return null;
    }

    /** True when the row is read at all: always, or, with {@link FrameColumns#imageNamesOnly()}, by its name. */
    boolean wanted(final Row row)
    {
        final String n = name(row);
        return !columns.imageNamesOnly() || n != null && InputScanner.isImageName(n);
    }

    /** Input bytes of the row's image (a path's file length, 0 when it cannot be found; the pixels of a struct). */
    long length(final Row row, final Configuration conf) throws IOException
    {
        return switch (kind)
        {
            case BYTES -> ((byte[])row.get(image)).length;
            case STRUCT -> ((byte[])row.getStruct(image).getAs("data")).length;
            case PATH -> {
                final Path path = new Path(row.getString(image));
                try
                {
                    yield path.getFileSystem(conf).getFileStatus(path).getLen();
                }
                catch (final FileNotFoundException ex)
                {
                    yield 0;
                }
            }
        };
    }

    /** The image's path for a path column, else null. */
    String path(final Row row)
    {
        return kind == FrameColumns.ImageKind.PATH ? row.getString(image) : null;
    }

    /** The encoded image of a bytes or struct column (a struct's pixels as PNG). */
    byte[] encoded(final Row row) throws IOException
    {
        return kind == FrameColumns.ImageKind.BYTES ? (byte[])row.get(image) : png(row.getStruct(image));
    }

    /** Reads the file at a path column's path. */
    static byte[] read(final String path, final Configuration conf) throws IOException
    {
        final Path file = new Path(path);
        try (FSDataInputStream in = file.getFileSystem(conf).open(file))
        {
            return in.readAllBytes();
        }
    }

    /** Spark's image struct (BGR or BGRA or gray, 8 bits, row-major) as a PNG file. */
    static byte[] png(final Row struct) throws IOException
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
            default -> throw new IOException("image struct with " + channels + " channels; prepare reads 1, 3 or 4");
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(picture, "png", out);
        return out.toByteArray();
    }

    private static byte[] pixels(final BufferedImage picture)
    {
        return ((DataBufferByte)picture.getRaster().getDataBuffer()).getData();
    }

    private static String sha256(final byte[] bytes)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
