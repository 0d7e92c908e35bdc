package io.baton.api.ml;

import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.FractionalType;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

/**
 * The label column of {@link BatonClassifier}: class names ({@code string}), class indices (integer types), or
 * whole non-negative numbers in a fractional column ({@code StringIndexer}'s doubles), which become integers before
 * {@code prepare} reads them. Stateless.
 */
final class LabelColumn
{
    private LabelColumn()
    {
    }

    /** Refuses a missing label column or one of another type, in one line naming the column and its type. */
    static DataType check(final StructType schema, final String column)
    {
        if (!Arrays.asList(schema.fieldNames()).contains(column))
        {
            throw new IllegalArgumentException("no label column '" + column + "' for BatonClassifier (columns: "
                + String.join(", ", schema.fieldNames()) + ")");
        }
        final DataType type = schema.apply(column).dataType();
        if (!type.equals(DataTypes.StringType) && !(type instanceof IntegralType) && !(type instanceof FractionalType))
        {
            throw new IllegalArgumentException("label column '" + column + "' has type " + type.simpleString()
                + "; BatonClassifier needs string (class names) or a number (class index, e.g. StringIndexer's)");
        }
        return type;
    }

    /**
     * The table with a fractional label column made integral; a value that is not a whole non-negative number is
     * refused in one line naming it. Nulls stay null (prepare skips and counts them).
     */
    static Dataset<Row> integral(final Dataset<Row> table, final String column)
    {
        if (!(table.schema().apply(column).dataType() instanceof FractionalType))
        {
            return table;
        }
        final Column label = table.col(column);
        final List<Row> bad = table.filter(label.isNotNull().and(label.notEqual(functions.floor(label))
            .or(label.lt(0)).or(label.isNaN()))).select(label).limit(1).collectAsList();
        if (!bad.isEmpty())
        {
            throw new IllegalArgumentException("label column '" + column + "' holds " + bad.get(0).get(0)
                + "; BatonClassifier needs whole non-negative class indices (as StringIndexer gives) or class names");
        }
        return table.withColumn(column, label.cast(DataTypes.LongType));
    }

    /** The class names a StringIndexer (or any nominal attribute) recorded for the column, or none. */
    static List<String> nominalNames(final StructType schema, final String column)
    {
        if (!(schema.apply(column).dataType() instanceof org.apache.spark.sql.types.NumericType))
        {
            return List.of();
        }
        final Attribute attribute = Attribute.fromStructField(schema.apply(column));
        if (attribute instanceof NominalAttribute nominal && nominal.values().isDefined())
        {
            return List.of(nominal.values().get());
        }
        return List.of();
    }
}
