package io.baton.coordinator.prepare;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

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
        return kind == FrameColumns.ImageKind.BYTES ? (byte[])row.get(image) : ImageStruct.png(row.getStruct(image));
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
