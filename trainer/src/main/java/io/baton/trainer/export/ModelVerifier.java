package io.baton.trainer.export;

import io.baton.trainer.health.BnStatsCheck;
import io.baton.trainer.model.ResidualBlock;
import io.baton.trainer.model.ResidualBlocks;
import io.baton.trainer.model.ShortcutKind;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Checks an exported model: it reloads, reproduces the sidecar's known output for the known input within the
 * tolerance, has sane BN running statistics, and every block that changes shape still has its projection shortcut
 * (the seed's incident: an exported ResNet-152 missing one degraded silently). Every problem found is reported,
 * each naming what is wrong (block, layer, output position, values).
 *
 * <p>Thread-safe (stateless).
 */
public final class ModelVerifier
{
    private ModelVerifier()
    {
    }

    /** The outcome: empty problems means the model passed. */
    public record Result(List<String> problems, int blocksChecked, int bnLayersChecked, double maxAbsDifference)
    {
        public boolean passed()
        {
            return problems.isEmpty();
        }
    }

    /**
     * @param zip            the exported model.
     * @param absTolerance   allowed absolute difference, or NaN for the sidecar's.
     * @param relTolerance   allowed relative difference, or NaN for the sidecar's.
     * @param maxBnMeanAbs   BN running means beyond +-this are reported.
     */
    public static Result verify(final Path zip, final double absTolerance, final double relTolerance,
        final double maxBnMeanAbs)
    {
        final List<String> problems = new ArrayList<>();
        final VerificationSample sample;
        try
        {
            sample = readSample(zip);
        }
        catch (final IOException | RuntimeException ex)
        {
            problems.add("cannot read sidecar " + VerificationSample.ENTRY + " of " + zip + ": " + ex.getMessage());
            return new Result(problems, 0, 0, Double.NaN);
        }
        final ComputationGraph graph;
        try
        {
            graph = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        }
        catch (final IOException | RuntimeException ex)
        {
            problems.add("cannot load the model of " + zip + ": " + ex);
            return new Result(problems, 0, 0, Double.NaN);
        }
        final int blocks = checkBlocks(graph, sample, problems);
        final List<String> bn = BnStatsCheck.problems(graph, maxBnMeanAbs);
        problems.addAll(bn);
        if (graph.numParams() != sample.params())
        {
            problems.add("model has " + graph.numParams() + " parameters, the export had " + sample.params());
        }
        final double maxDiff = checkOutput(graph, sample,
            Double.isNaN(absTolerance) ? sample.absTolerance() : absTolerance,
            Double.isNaN(relTolerance) ? sample.relTolerance() : relTolerance, problems);
        return new Result(problems, blocks, BnStatsCheck.countLayers(graph), maxDiff);
    }

    /** The sidecar of an exported zip. */
    public static VerificationSample readSample(final Path zip) throws IOException
    {
        try (ZipFile file = new ZipFile(zip.toFile()))
        {
            final ZipEntry entry = file.getEntry(VerificationSample.ENTRY);
            if (entry == null)
            {
                throw new IllegalArgumentException("no entry " + VerificationSample.ENTRY
                    + " (not written by baton export; a run's model.zip is checked after baton export --model "
                    + "<run dir> -o <file>)");
            }
            try (InputStream in = file.getInputStream(entry))
            {
                return VerificationSample.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    static String missingProjection(final ResidualBlock block)
    {
        return "block " + block.name() + " changes shape (" + block.inChannels() + " -> " + block.outChannels()
            + " channels, stride " + block.stride() + ") but its shortcut is an identity: the projection shortcut "
            + "is missing";
    }

    private static int checkBlocks(final ComputationGraph graph, final VerificationSample sample,
        final List<String> problems)
    {
        final long[] shape = sample.inputShape();
        final List<ResidualBlock> blocks;
        try
        {
            blocks = ResidualBlocks.describe(graph.getConfiguration(),
                InputType.convolutional(shape[2], shape[3], shape[1]));
        }
        catch (final RuntimeException ex)
        {
            problems.add("activation shapes of the model do not add up: " + ex.getMessage());
            return checkWiring(graph, sample, problems);
        }
        final Map<String, ResidualBlock> byName = new HashMap<>();
        for (final ResidualBlock block : blocks)
        {
            byName.put(block.name(), block);
            if (block.lacksProjection())
            {
                problems.add(missingProjection(block));
            }
        }
        for (final ResidualBlock recorded : sample.blocks())
        {
            final ResidualBlock now = byName.get(recorded.name());
            if (now == null)
            {
                problems.add("block " + recorded.name() + " of the exported model is missing");
            }
            else if (now.shortcut() != recorded.shortcut() && !now.lacksProjection())
            {
                problems.add("block " + recorded.name() + " had a " + recorded.shortcut() + " shortcut at export, "
                    + "now " + now.shortcut());
            }
        }
        if (blocks.size() != sample.blocks().size())
        {
            problems.add("model has " + blocks.size() + " residual blocks, the export had " + sample.blocks().size());
        }
        return blocks.size();
    }

    /** Shape-free fallback: each exported block's shortcut classified from the wiring alone. */
    private static int checkWiring(final ComputationGraph graph, final VerificationSample sample,
        final List<String> problems)
    {
        for (final ResidualBlock recorded : sample.blocks())
        {
            final ShortcutKind now = ShortcutInspector.shortcutOf(graph.getConfiguration(), recorded.name());
            if (now == null)
            {
                problems.add("block " + recorded.name() + " of the exported model is missing");
            }
            else if (recorded.changesShape() && now == ShortcutKind.IDENTITY)
            {
                problems.add(missingProjection(recorded));
            }
            else if (now != recorded.shortcut())
            {
                problems.add("block " + recorded.name() + " had a " + recorded.shortcut() + " shortcut at export, "
                    + "now " + now);
            }
        }
        return sample.blocks().size();
    }

    private static double checkOutput(final ComputationGraph graph, final VerificationSample sample,
        final double absTolerance, final double relTolerance, final List<String> problems)
    {
        final INDArray out;
        try
        {
            out = graph.outputSingle(false, Nd4j.create(sample.input(), sample.inputShape(), 'c'));
        }
        catch (final RuntimeException ex)
        {
            problems.add("forward pass on the reference input failed: " + ex);
            return Double.NaN;
        }
        final float[] actual = ModelExporter.floats(out);
        if (!Arrays.equals(out.shape(), sample.outputShape()))
        {
            problems.add("output shape " + Arrays.toString(out.shape()) + " differs from the export's "
                + Arrays.toString(sample.outputShape()));
            return Double.NaN;
        }
        final String mismatch = compare(sample.output(), actual, absTolerance, relTolerance, out.shape());
        if (mismatch != null)
        {
            problems.add("output differs from the training graph's: " + mismatch);
        }
        double max = 0;
        for (int i = 0; i < actual.length; i++)
        {
            max = Math.max(max, Math.abs((double)actual[i] - sample.output()[i]));
        }
        return max;
    }

    /** Null when every value is within abs + rel * |expected|, else a message naming the worst position. */
    static String compare(final float[] expected, final float[] actual, final double absTolerance,
        final double relTolerance, final long[] shape)
    {
        int bad = 0;
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++)
        {
            final double diff = Math.abs((double)actual[i] - expected[i]);
            final double allowed = absTolerance + relTolerance * Math.abs(expected[i]);
            if (!(diff <= allowed))
            {
                bad++;
                final double excess = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff - allowed;
                if (worst < 0 || excess > worstExcess)
                {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad == 0)
        {
            return null;
        }
        final long columns = shape.length > 1 ? shape[1] : 1;
        return String.format(Locale.ROOT, "%d of %d values beyond tolerance (abs %.1e + rel %.1e), worst at "
                + "[example %d, class %d]: expected %.6g, got %.6g", bad, expected.length, absTolerance, relTolerance,
            worst / columns, worst % columns, expected[worst], actual[worst]);
    }
}
