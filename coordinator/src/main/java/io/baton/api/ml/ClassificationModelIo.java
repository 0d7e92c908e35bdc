package io.baton.api.ml;

import io.baton.trainer.export.ModelClasses;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import scala.Option;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Spark ML persistence of {@link BatonClassificationModel}: Spark's params metadata ({@code metadata/}, as
 * {@code DefaultParamsWriter} writes it), the network as a DL4J model zip with its class names
 * ({@code data/model.zip}) and the configuration it was trained with ({@code data/run.conf}); any Hadoop FS path.
 */
final class ClassificationModelIo
{
    static final String MODEL = "data/model.zip";
    static final String CONFIG = "data/run.conf";

    private ClassificationModelIo()
    {
    }

    /** Writes a model (what {@code model.write().save(path)} runs). */
    static final class Writer extends MLWriter
    {
        private final BatonClassificationModel model;

        Writer(final BatonClassificationModel model)
        {
            this.model = model;
        }

        @Override
        public void saveImpl(final String path)
        {
            DefaultParamsWriter.saveMetadata(model, path, sc(), Option.empty(), Option.empty());
            write(new Path(path, MODEL), model.modelZip());
            write(new Path(path, CONFIG), model.runConfig().getBytes(StandardCharsets.UTF_8));
        }

        private void write(final Path file, final byte[] bytes)
        {
            try (FSDataOutputStream out = file.getFileSystem(sc().hadoopConfiguration()).create(file, true))
            {
                out.write(bytes);
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot write " + file + ": " + ex.getMessage(), ex);
            }
        }
    }

    /** Reads a model (what {@code BatonClassificationModel.load(path)} and {@code PipelineModel.load} run). */
    static final class Reader extends MLReader<BatonClassificationModel>
    {
        @Override
        public BatonClassificationModel load(final String path)
        {
            final DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, sc(),
                BatonClassificationModel.class.getName());
            final byte[] zip = read(new Path(path, MODEL));
            final List<String> classes;
            try
            {
                classes = ModelClasses.read(new ByteArrayInputStream(zip));
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot read the class names of " + new Path(path, MODEL) + ": "
                    + ex.getMessage(), ex);
            }
            final BatonClassificationModel model = new BatonClassificationModel(metadata.uid(), zip, classes,
                new String(read(new Path(path, CONFIG)), StandardCharsets.UTF_8), 0);
            metadata.getAndSetParams(model, Option.empty());
            return model;
        }

        private byte[] read(final Path file)
        {
            try (FSDataInputStream in = file.getFileSystem(sc().hadoopConfiguration()).open(file))
            {
                return in.readAllBytes();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
            }
        }
    }
}
