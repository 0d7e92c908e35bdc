package io.baton.coordinator.predict;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.ValTransform;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The networks of this JVM's inference tasks: a broadcast model is deserialized once per executor JVM and kept for
 * every later task of the same broadcast (the last {@value #KEPT} broadcasts), with the decoder and the evaluation
 * transform of the configuration it was trained with.
 *
 * <p>Threading: any task thread; loading is done under the class lock, so a JVM deserializes a model once.
 */
final class ExecutorModels
{
    /** Models kept per JVM; older broadcasts are dropped (their tasks are over or will load again). */
    static final int KEPT = 4;

    private static final Map<Long, Loaded> LOADED = new LinkedHashMap<>(8, 0.75f, true)
    {
        @Override
        protected boolean removeEldestEntry(final Map.Entry<Long, Loaded> eldest)
        {
            return size() > KEPT;
        }
    };

    private static long loads;

    private ExecutorModels()
    {
    }

    /** Models deserialized in this JVM so far. */
    static synchronized long loads()
    {
        return loads;
    }

    /** The network of {@code model} and the input pipeline {@code configText} describes, loaded once per JVM. */
    static synchronized Loaded get(final Broadcast<byte[]> model, final String configText)
    {
        final Loaded kept = LOADED.get(model.id());
        if (kept != null)
        {
            return kept;
        }
        NativeRuntime.configure();
        loads++;
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).loadText(configText);
        final ComputationGraph graph;
        try
        {
            graph = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(model.value()), false);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot restore the broadcast model: " + ex.getMessage(), ex);
        }
        final JpegBackend backend = JpegBackend.valueOf(
            config.get(TrainerKeys.DATA_JPEG_DECODER).toUpperCase(Locale.ROOT).replace('-', '_'));
        final Loaded loaded = new Loaded(graph, new ImageDecoder(backend, false, config.get(TrainerKeys.DATA_TURBOJPEG_JAR)),
            new ValTransform(config.get(TrainerKeys.DATA_IMAGE_SIZE), DataSources.transformSpec(config)));
        LOADED.put(model.id(), loaded);
        return loaded;
    }

    /**
     * A network with the decoder and evaluation transform of {@code baton evaluate} (as {@code ShardBatchSource}
     * builds them for the validation split). {@link #output} is serialised: DL4J graphs are not safe for concurrent
     * use.
     */
    record Loaded(ComputationGraph graph, ImageDecoder decoder, ValTransform transform)
    {
        float[] output(final org.nd4j.linalg.api.ndarray.INDArray features)
        {
            synchronized (graph)
            {
                return graph.outputSingle(false, features).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                    .dup('c').data().asFloat();
            }
        }
    }
}
