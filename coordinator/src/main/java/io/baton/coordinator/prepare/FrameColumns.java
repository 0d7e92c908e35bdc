package io.baton.coordinator.prepare;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * Which columns of a table {@code baton prepare} reads (see {@link FrameSource}).
 *
 * @param image            the image: {@code binary} (an encoded JPEG/PNG file's bytes, e.g. {@code binaryFile}'s
 *                         {@code content}), {@code string} (the image's path or URI on any Hadoop file system) or
 *                         Spark's {@code image} struct (the {@code image} source: decoded pixels, stored losslessly as
 *                         PNG).
 * @param label            the label: {@code string} (class names, sorted as the folder names of a tree are) or an
 *                         integral type (class i is label value i); ignored when {@code labelFromFolder}.
 * @param name             a string column naming each image (its path, an id), which orders the samples of a class and
 *                         names skipped ones; null = the path for a path column, the {@code origin} of an image
 *                         struct, and the SHA-256 of the bytes for a binary column. Names of a split must be unique.
 * @param labelFromFolder  the label is the name of the image's parent folder in its name (e.g. {@code binaryFile}'s
 *                         {@code path} of an ImageNet-layout tree) instead of a column.
 * @param imageNamesOnly   read only rows whose name ends in .jpeg/.jpg/.png (any case); the others are ignored and
 *                         named, as a tree's other files are (for {@code binaryFile} over a folder).
 */
public record FrameColumns(String image, String label, String name, boolean labelFromFolder, boolean imageNamesOnly)
    implements Serializable
{
    /** How the image column holds the image. */
    enum ImageKind
    {
        BYTES, PATH, STRUCT
    }

    public FrameColumns
    {
        Objects.requireNonNull(image, "image");
        if (!labelFromFolder)
        {
            Objects.requireNonNull(label, "label");
        }
    }

    /** An image column and a label column, the name from the image. */
    public static FrameColumns of(final String image, final String label)
    {
        return new FrameColumns(image, label, null, false, false);
    }

    /** Spark's {@code binaryFile} source over an ImageNet-layout folder: labels from the parent folders. */
    public static FrameColumns binaryFileTree()
    {
        return new FrameColumns("content", null, "path", true, true);
    }

    /** The same, with {@code column} naming the images. */
    public FrameColumns withName(final String column)
    {
        return new FrameColumns(image, label, column, labelFromFolder, imageNamesOnly);
    }

    /** Checks the columns of one split's table; fails in one line naming the column and its type. */
    FrameRow check(final StructType schema, final String split)
    {
        final StructField imageField = field(schema, image, split, "image");
        final ImageKind kind = imageKind(imageField, split);
        if (!labelFromFolder)
        {
            final DataType type = field(schema, label, split, "label").dataType();
            if (!type.equals(DataTypes.StringType) && !(type instanceof IntegralType))
            {
                throw new IllegalArgumentException("label column '" + label + "' of split " + split + " has type "
                    + type.simpleString() + "; prepare needs string (class names) or an integer type (class index)");
            }
        }
        if (name != null && !field(schema, name, split, "name").dataType().equals(DataTypes.StringType))
        {
            throw new IllegalArgumentException("name column '" + name + "' of split " + split + " has type "
                + schema.apply(name).dataType().simpleString() + "; prepare needs string");
        }
        if (labelFromFolder && name == null && kind == ImageKind.BYTES)
        {
            throw new IllegalArgumentException("labels from folders need the images' paths: give a name column "
                + "(binaryFile's path) for the binary image column '" + image + "' of split " + split);
        }
        if (imageNamesOnly && name == null && kind == ImageKind.BYTES)
        {
            throw new IllegalArgumentException("reading only image names needs a name column for the binary image "
                + "column '" + image + "' of split " + split);
        }
        final boolean integralLabel = !labelFromFolder
            && schema.apply(label).dataType() instanceof IntegralType;
        return new FrameRow(this, kind, schema.fieldIndex(image), labelFromFolder ? -1 : schema.fieldIndex(label),
            name == null ? -1 : schema.fieldIndex(name), integralLabel);
    }

    private ImageKind imageKind(final StructField field, final String split)
    {
        final DataType type = field.dataType();
        if (type.equals(DataTypes.BinaryType))
        {
            return ImageKind.BYTES;
        }
        if (type.equals(DataTypes.StringType))
        {
            return ImageKind.PATH;
        }
        if (ImageStruct.is(type))
        {
            return ImageKind.STRUCT;
        }
        throw new IllegalArgumentException("image column '" + image + "' of split " + split + " has type "
            + type.simpleString() + "; prepare needs binary (encoded image bytes), string (a path on a Hadoop file "
            + "system) or Spark's image struct");
    }

    private static StructField field(final StructType schema, final String column, final String split,
        final String role)
    {
        if (!Arrays.asList(schema.fieldNames()).contains(column))
        {
            throw new IllegalArgumentException("no " + role + " column '" + column + "' in split " + split
                + " (columns: " + String.join(", ", schema.fieldNames()) + ")");
        }
        return schema.apply(column);
    }
}
