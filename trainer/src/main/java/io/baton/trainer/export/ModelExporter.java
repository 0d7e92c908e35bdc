package io.baton.trainer.export;

import io.baton.trainer.health.BnStatsCheck;
import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ResidualBlocks;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes a trained graph in inference form, a zip that plain DL4J restores without any Baton class on the class
 * path ({@link InferenceForm}: SyncBatchNorm becomes BatchNormalization, as inference uses running statistics and
 * never communicates; the label-smoothed loss becomes MCXENT; the option-A shortcut becomes DL4J vertices; the same
 * parameters), saved with DL4J's ModelSerializer (no updater state), plus the {@link VerificationSample} sidecar as
 * the zip entry {@value VerificationSample#ENTRY}.
 * Before writing it refuses a model whose shape-changing blocks lack their projection shortcut or whose BN running
 * statistics are broken, and checks that the inference graph reproduces the training graph's output on the sample.
 *
 * <p>Thread-safe if the graph is not being trained concurrently.
 */
public final class ModelExporter
{
    /** Default absolute tolerance of the sidecar comparison (float32, same or another CPU/GPU backend). */
    public static final double DEFAULT_ABS_TOLERANCE = 1e-4;
    /** Default relative tolerance of the sidecar comparison. */
    public static final double DEFAULT_REL_TOLERANCE = 1e-3;
    /** Examples in the fixed input. */
    public static final int SAMPLE_EXAMPLES = 2;

    private ModelExporter()
    {
    }

    /**
     * @param training    the trained graph (SyncBatchNorm or plain BN); not modified.
     * @param input       the network's input type (height, width, channels).
     * @param output      the zip to write (replaced atomically).
     * @param seed        seed of the fixed input.
     * @param maxBnMeanAbs BN running means beyond +-this refuse the export.
     * @return the sidecar written.
     */
    public static VerificationSample export(final ComputationGraph training,
        final InputType.InputTypeConvolutional input, final Path output, final long seed, final double maxBnMeanAbs)
    {
        return export(training, input, output, seed, maxBnMeanAbs, List.of());
    }

    /**
     * As above, recording {@code classes} (the names of the model's outputs, from its training data; empty when
     * unknown) in the zip ({@link ModelClasses}).
     */
    public static VerificationSample export(final ComputationGraph training,
        final InputType.InputTypeConvolutional input, final Path output, final long seed, final double maxBnMeanAbs,
        final List<String> classes)
    {
        final List<ResidualBlock> blocks = ResidualBlocks.describe(training.getConfiguration(), input);
        final List<String> problems = new ArrayList<>();
        for (final ResidualBlock block : blocks)
        {
            if (block.lacksProjection())
            {
                problems.add(ModelVerifier.missingProjection(block));
            }
        }
        problems.addAll(BnStatsCheck.problems(training, maxBnMeanAbs));
        if (!problems.isEmpty())
        {
            throw new IllegalStateException("refusing to export: " + String.join("; ", problems));
        }
        final ComputationGraph inference = inferenceGraph(training, input);
        final INDArray x = fixedInput(seed, input);
        final float[] expected = floats(training.outputSingle(false, x));
        final INDArray actual = inference.outputSingle(false, x);
        final String mismatch = ModelVerifier.compare(expected, floats(actual), DEFAULT_ABS_TOLERANCE,
            DEFAULT_REL_TOLERANCE, actual.shape());
        if (mismatch != null)
        {
            throw new IllegalStateException("inference form does not reproduce the training graph: " + mismatch);
        }
        final VerificationSample sample = new VerificationSample(seed, x.shape(), floats(x), actual.shape(), expected,
            DEFAULT_ABS_TOLERANCE, DEFAULT_REL_TOLERANCE, inference.numParams(), BnStatsCheck.countLayers(inference),
            blocks);
        write(inference, sample, classes, output);
        return sample;
    }

    /**
     * The inference form of a graph ({@link InferenceForm}): only DL4J classes, the same parameters (copied).
     *
     * @param input the network's input type.
     * @throws IllegalStateException naming the vertex if a Baton class would remain.
     */
    public static ComputationGraph inferenceGraph(final ComputationGraph training, final InputType input)
    {
        return InferenceForm.of(training, input);
    }

    /** The seeded standard-normal NCHW input of {@link #SAMPLE_EXAMPLES} examples. */
    public static INDArray fixedInput(final long seed, final InputType.InputTypeConvolutional input)
    {
        final long[] shape = {SAMPLE_EXAMPLES, input.getChannels(), input.getHeight(), input.getWidth()};
        final float[] values = new float[(int)(shape[0] * shape[1] * shape[2] * shape[3])];
        final Random random = new Random(seed);
        for (int i = 0; i < values.length; i++)
        {
            values[i] = (float)random.nextGaussian();
        }
        return Nd4j.create(values, shape, 'c');
    }

    static float[] floats(final INDArray array)
    {
        return array.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    private static void write(final ComputationGraph inference, final VerificationSample sample,
        final List<String> classes, final Path output)
    {
        final Path dir = output.toAbsolutePath().getParent();
        Path model = null;
        Path staged = null;
        try
        {
            Files.createDirectories(dir);
            model = Files.createTempFile(dir, ".export-model-", ".zip");
            staged = Files.createTempFile(dir, ".export-", ".zip");
            ModelSerializer.writeModel(inference, model.toFile(), false);
            try (OutputStream out = Files.newOutputStream(staged))
            {
                ModelClasses.copyWithClasses(model, classes, out,
                    List.of(Map.entry(VerificationSample.ENTRY, sample.toJson().getBytes(StandardCharsets.UTF_8))));
            }
            Files.move(staged, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write exported model " + output + ": " + ex.getMessage(), ex);
        }
        finally
        {
            deleteQuietly(model);
            deleteQuietly(staged);
        }
    }

    private static void deleteQuietly(final Path file)
    {
        if (file != null)
        {
            try
            {
                Files.deleteIfExists(file);
            }
            catch (final IOException ignored)
            {
                // a leftover temp file is harmless; the export itself succeeded or already failed loudly
            }
        }
    }
}
