package io.baton.api.ml;

import io.baton.api.Baton;
import io.baton.api.Model;
import io.baton.api.Settings;
import io.baton.api.TrainResult;
import io.baton.coordinator.prepare.FrameColumns;
import io.baton.coordinator.train.RunDirectory;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.export.ModelClasses;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link BatonClassifier#fit} does: the DataFrame's splits prepared into {@code <workDir>/data} through
 * {@code Baton.prepare}, trained into {@code <workDir>/run} through {@code Baton.train}, and the trained inference
 * graph with its class names made a {@link BatonClassificationModel}.
 */
final class ClassifierFit
{
    private ClassifierFit()
    {
    }

    static BatonClassificationModel fit(final BatonClassifier estimator, final Dataset<?> dataset)
    {
        final String workDir = estimator.value(estimator.workDir());
        if (workDir == null)
        {
            throw new IllegalArgumentException("BatonClassifier needs workDir (setWorkDir): the folder for the "
                + "prepared data and the run");
        }
        final String imageCol = estimator.value(estimator.imageCol());
        final String labelCol = estimator.value(estimator.labelCol());
        final Dataset<Row> table = LabelColumn.integral(dataset.toDF(), labelCol);
        final List<String> nominal = LabelColumn.nominalNames(dataset.schema(), labelCol);
        final String indicator = estimator.value(estimator.validationIndicatorCol());
        final Map<String, Dataset<Row>> splits = splits(table, indicator);
        final PrintWriter out = new PrintWriter(System.out, true);
        final Baton baton = Baton.on(table.sparkSession()).progressTo(out);
        final String data = new Path(workDir, "data").toString();
        final String run = new Path(workDir, "run").toString();
        try
        {
            final Manifest manifest = baton.prepare(splits, FrameColumns.of(imageCol, labelCol), data,
                settings(estimator), true);
            final long skipped = skipped(manifest, indicator != null);
            if (skipped > 0)
            {
                out.println("BatonClassifier: " + skipped + " row(s) skipped (null label or image, or an image that "
                    + "does not decode), listed in " + data + "/" + Manifest.FILE_NAME);
            }
            final TrainResult result = baton.train(model(estimator.value(estimator.model())),
                settings(estimator).data(data).runDir(run));
            final List<String> classes = nominal.size() >= manifest.classes().size()
                ? nominal.subList(0, manifest.classes().size()) : manifest.classes();
            final ByteArrayOutputStream zip = new ByteArrayOutputStream();
            ModelClasses.writeModel(result.model(), false, classes, zip);
            return new BatonClassificationModel(estimator.uid(), zip.toByteArray(), classes,
                new RunDirectory(run).readText(RunDirectory.CONFIG), skipped);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("BatonClassifier in " + workDir + ": " + ex.getMessage(), ex);
        }
    }

    /** train and val: by the indicator column, or the whole table for both. */
    private static Map<String, Dataset<Row>> splits(final Dataset<Row> table, final String indicator)
    {
        final Map<String, Dataset<Row>> splits = new LinkedHashMap<>();
        if (indicator == null)
        {
            splits.put("train", table);
            splits.put("val", table);
            return splits;
        }
        if (!java.util.Arrays.asList(table.schema().fieldNames()).contains(indicator)
            || !table.schema().apply(indicator).dataType().equals(DataTypes.BooleanType))
        {
            throw new IllegalArgumentException("validationIndicatorCol '" + indicator + "' must be a boolean column "
                + "of the input (columns: " + table.schema().simpleString() + ")");
        }
        final Column isVal = table.col(indicator);
        splits.put("train", table.filter(isVal.isNull().or(org.apache.spark.sql.functions.not(isVal))));
        splits.put("val", table.filter(isVal.isNotNull().and(isVal)));
        return splits;
    }


    /** Rows prepare skipped: of both splits when they are different rows, else of train. */
    private static long skipped(final Manifest manifest, final boolean separateSplits)
    {
        long skipped = manifest.splits().get("train").skipped().size();
        if (separateSplits)
        {
            skipped += manifest.splits().get("val").skipped().size();
        }
        return skipped;
    }

    private static Settings settings(final BatonClassifier e)
    {
        Settings settings = Settings.hocon(e.value(e.settings()));
        settings = setIfDefined(settings, "train.replicas", e.value(e.replicas()));
        settings = setIfDefined(settings, "train.global-batch", e.value(e.globalBatch()));
        settings = setIfDefined(settings, "train.epochs", e.value(e.epochs()));
        settings = setIfDefined(settings, "train.seed", e.value(e.seed()));
        return setIfDefined(settings, "data.image-size", e.value(e.imageSize()));
    }

    private static Settings setIfDefined(final Settings settings, final String key, final Object value)
    {
        return value == null ? settings : settings.set(key, value);
    }

    /** A zoo architecture by name, or a DL4J model zip when the value looks like a file. */
    private static Model model(final String value)
    {
        return value.endsWith(".zip") || value.contains("/") ? Model.zip(value) : Model.zoo(value);
    }
}
