package io.baton.trainer.model;

import io.baton.common.store.HadoopConf;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.graph.SubsetVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossNegativeLogLikelihood;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model Baton did not build (the user's {@code ComputationGraph}, {@code MultiLayerNetwork} or configuration):
 * reading it from a DL4J model zip, checking that Baton can train it exactly, and turning it into a replica's
 * configuration.
 *
 * <p>Baton trains a user's graph exactly when every bit of state it has is parameters or BatchNormalization
 * statistics: the layers in {@link #EXACT_LAYERS} (and Baton's own), the parameter-free vertices in
 * {@link #EXACT_VERTICES}, no dropout or weight noise (their random masks would depend on which replica runs a
 * sample, breaking world-size invariance), no frozen layers (Baton's optimiser updates every trainable
 * parameter), one convolutional input and one softmax classifier output, float parameters. Anything else is refused
 * by name before a stage starts rather than trained wrongly.
 *
 * <p>The replica's form of an accepted graph has every BatchNormalization replaced by SyncBatchNorm (same
 * parameters and statistics), and every DL4J updater and regulariser replaced by {@link NoOp}: Baton's optimiser
 * (the {@code optim.*} keys: SGD with momentum, weight decay on conv/FC weights only, LARS, clipping) is what
 * trains, as for the zoo's models. {@link #replacedSettings} says what was replaced, for the driver to print.
 *
 * <p>Thread-safe (stateless).
 */
public final class UserGraphs
{
    /** Layer configurations whose only state is parameters (and BN statistics). */
    static final Set<Class<? extends Layer>> EXACT_LAYERS = Set.of(
        ConvolutionLayer.class, SubsamplingLayer.class, GlobalPoolingLayer.class, BatchNormalization.class,
        DenseLayer.class, org.deeplearning4j.nn.conf.layers.OutputLayer.class, LossLayer.class, ActivationLayer.class,
        ZeroPaddingLayer.class, Cropping2D.class, Upsampling2D.class, LocalResponseNormalization.class,
        org.deeplearning4j.nn.conf.layers.SeparableConvolution2D.class,
        org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.class,
        org.deeplearning4j.nn.conf.layers.Deconvolution2D.class);

    /** Parameter-free graph vertices. */
    static final Set<Class<? extends GraphVertex>> EXACT_VERTICES = Set.of(
        ElementWiseVertex.class, MergeVertex.class, SubsetVertex.class, PreprocessorVertex.class, ScaleVertex.class,
        ShiftVertex.class, ZeroPadShortcutVertex.class);

    private UserGraphs()
    {
    }

    /**
     * Reads a DL4J model zip (ModelSerializer's format) from any Hadoop file system, without updater state. A
     * MultiLayerNetwork becomes the equivalent ComputationGraph (DL4J's {@code toComputationGraph()}, same
     * parameters).
     *
     * @throws IllegalArgumentException naming the location when it cannot be read or is not a DL4J model.
     */
    public static ComputationGraph load(final String location)
    {
        final File direct = localFile(location);
        final File local;
        try
        {
            local = direct != null ? direct : temporaryCopy(location);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("model.graph = " + location + " cannot be read: " + ex.getMessage(),
                ex);
        }
        try
        {
            final String json = configurationJson(local);
            if (json.contains("\"confs\""))
            {
                // MultiLayerConfiguration's JSON lists its layers in "confs"; a graph's has "vertices".
                final MultiLayerNetwork network = ModelSerializer.restoreMultiLayerNetwork(local, false);
                return network.toComputationGraph();
            }
            return ModelSerializer.restoreComputationGraph(local, false);
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new IllegalArgumentException("model.graph = " + location + " is not a DL4J model zip ("
                + ex.getMessage() + ")", ex);
        }
        finally
        {
            if (direct == null)
            {
                local.delete();
            }
        }
    }

    /** The graph's configuration JSON from a model zip (DL4J's entry name). */
    private static String configurationJson(final File zip) throws IOException
    {
        try (java.util.zip.ZipFile file = new java.util.zip.ZipFile(zip))
        {
            final java.util.zip.ZipEntry entry = file.getEntry("configuration.json");
            if (entry == null)
            {
                throw new IOException("no configuration.json entry");
            }
            try (InputStream in = file.getInputStream(entry))
            {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
    }

    /**
     * The zip as a local file when it is one (a plain path or a {@code file:} URI), else null. Read directly: going
     * through Hadoop's local file system costs a configuration (its default resources parsed, ~15 ms) and a copy.
     */
    private static File localFile(final String location)
    {
        final File plain = new File(location);
        if (!location.contains(":") && plain.isFile())
        {
            return plain;
        }
        try
        {
            final java.net.URI uri = new Path(location).toUri();
            if ("file".equals(uri.getScheme()) && uri.getAuthority() == null)
            {
                final File file = new File(uri.getPath());
                return file.isFile() ? file : null;
            }
        }
        catch (final IllegalArgumentException ex)
        {
            // not a path Hadoop can parse: its file system says why below
        }
        return null;
    }

    /** A temporary local copy of the zip at a Hadoop file system location (deleted by the caller). */
    private static File temporaryCopy(final String location) throws IOException
    {
        final Path path = new Path(location);
        final FileSystem fs = path.getFileSystem(HadoopConf.fresh());
        final File copy = File.createTempFile("baton-model-graph-", ".zip");
        try (InputStream in = fs.open(path))
        {
            Files.copy(in, copy.toPath(), StandardCopyOption.REPLACE_EXISTING);
        }
        catch (final IOException ex)
        {
            copy.delete();
            throw ex;
        }
        return copy;
    }

    /**
     * What keeps Baton from training {@code graph} exactly on data of {@code chw} = {channels, height, width} with
     * {@code classes} classes, each naming the layer or setting; empty when it can be trained.
     */
    public static List<String> problems(final ComputationGraph graph, final int[] chw, final int classes)
    {
        final List<String> problems = new ArrayList<>();
        final ComputationGraphConfiguration conf = graph.getConfiguration();
        if (graph.params() != null && graph.params().dataType() != DataType.FLOAT)
        {
            problems.add("its parameters are " + graph.params().dataType() + "; Baton trains FLOAT models "
                + "(build it with .dataType(DataType.FLOAT) or convert it with convertDataType(DataType.FLOAT))");
        }
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1)
        {
            problems.add("it has " + conf.getNetworkInputs().size() + " input(s) and " + conf.getNetworkOutputs()
                .size() + " output(s); Baton trains graphs with one image input and one classifier output");
        }
        for (final Map.Entry<String, GraphVertex> entry : conf.getVertices().entrySet())
        {
            final String problem = vertexProblem(entry.getKey(), entry.getValue());
            if (problem != null)
            {
                problems.add(problem);
            }
        }
        if (conf.getNetworkOutputs().size() == 1)
        {
            final String problem = outputProblem(conf, conf.getNetworkOutputs().get(0), classes);
            if (problem != null)
            {
                problems.add(problem);
            }
        }
        if (problems.isEmpty())
        {
            final String problem = inputProblem(graph, chw, classes);
            if (problem != null)
            {
                problems.add(problem);
            }
        }
        return problems;
    }

    /** Refuses, in one line naming every problem, a graph Baton cannot train exactly. */
    public static void requireTrainable(final ComputationGraph graph, final int[] chw, final int classes,
        final String what)
    {
        final List<String> problems = problems(graph, chw, classes);
        if (!problems.isEmpty())
        {
            throw new IllegalArgumentException(what + " cannot be trained by Baton: " + String.join("; ", problems));
        }
    }

    private static String vertexProblem(final String name, final GraphVertex vertex)
    {
        if (!(vertex instanceof LayerVertex layerVertex))
        {
            if (EXACT_VERTICES.contains(vertex.getClass()))
            {
                return null;
            }
            return "vertex '" + name + "' (" + vertex.getClass().getSimpleName() + ") is not one Baton trains "
                + "exactly (supported: " + simpleNames(EXACT_VERTICES) + ")";
        }
        final Layer layer = layerVertex.getLayerConf().getLayer();
        if (layer instanceof FrozenLayer || layer instanceof FrozenLayerWithBackprop)
        {
            return "layer '" + name + "' is frozen; Baton's optimiser updates every parameter (unfreeze it or "
                + "leave it out)";
        }
        if (!EXACT_LAYERS.contains(layer.getClass()) && !layer.getClass().getName().startsWith("io.baton."))
        {
            return "layer '" + name + "' (" + layer.getClass().getSimpleName() + ") has state beyond parameters "
                + "and BatchNormalization statistics or is not one Baton trains exactly (supported: "
                + simpleNames(EXACT_LAYERS) + ")";
        }
        if (layer.getIDropout() != null)
        {
            return "layer '" + name + "' uses dropout (" + layer.getIDropout() + "), whose random masks would "
                + "depend on which replica reads a sample; remove it";
        }
        if (layer instanceof BaseLayer base && base.getWeightNoise() != null)
        {
            return "layer '" + name + "' uses weight noise (" + base.getWeightNoise() + "); remove it";
        }
        if (layer instanceof BatchNormalization bn)
        {
            if (bn.isLockGammaBeta())
            {
                return "BatchNormalization '" + name + "' has lockGammaBeta, which SyncBatchNorm does not support";
            }
            if (bn.getCnn2DFormat() != null && bn.getCnn2DFormat() != CNN2DFormat.NCHW)
            {
                return "BatchNormalization '" + name + "' is " + bn.getCnn2DFormat() + "; SyncBatchNorm supports NCHW";
            }
        }
        return null;
    }

    private static String outputProblem(final ComputationGraphConfiguration conf, final String output,
        final int classes)
    {
        final GraphVertex vertex = conf.getVertices().get(output);
        final Layer layer = vertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
        final ILossFunction loss;
        final Object activation;
        if (layer instanceof BaseOutputLayer out)
        {
            loss = out.getLossFn();
            activation = out.getActivationFn();
            if (out.getNOut() != classes)
            {
                return "output layer '" + output + "' has " + out.getNOut() + " outputs but the data has " + classes
                    + " classes";
            }
        }
        else if (layer instanceof LossLayer lossLayer)
        {
            loss = lossLayer.getLossFn();
            activation = lossLayer.getActivationFn();
        }
        else
        {
            return "output '" + output + "' is not an output layer with a softmax and a cross-entropy loss (Baton "
                + "trains classifiers: OutputLayer or LossLayer, Activation.SOFTMAX, MCXENT or NEGATIVELOGLIKELIHOOD)";
        }
        if (!(loss instanceof LossMCXENT) && !(loss instanceof LossNegativeLogLikelihood))
        {
            return "output layer '" + output + "' has loss " + loss + "; Baton trains classifiers with MCXENT or "
                + "NEGATIVELOGLIKELIHOOD";
        }
        if (!(activation instanceof ActivationSoftmax))
        {
            return "output layer '" + output + "' has activation " + activation + "; Baton trains classifiers with "
                + Activation.SOFTMAX;
        }
        return null;
    }

    /** Runs one zero image through the graph in inference mode: the shapes must fit the data's. */
    private static String inputProblem(final ComputationGraph graph, final int[] chw, final int classes)
    {
        final INDArray x = Nd4j.zeros(DataType.FLOAT, 1, chw[0], chw[1], chw[2]);
        final INDArray y;
        try
        {
            y = graph.outputSingle(false, x);
        }
        catch (final RuntimeException ex)
        {
            return "it does not accept the data's images [channels, height, width] = [" + chw[0] + ", " + chw[1]
                + ", " + chw[2] + "]: " + firstLine(ex);
        }
        if (y.rank() != 2 || y.size(1) != classes)
        {
            return "its output for one image has shape " + java.util.Arrays.toString(y.shape()) + ", not [1, "
                + classes + "] for the data's " + classes + " classes";
        }
        return null;
    }

    private static String firstLine(final Throwable ex)
    {
        final String message = String.valueOf(ex.getMessage());
        final int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    private static String simpleNames(final Set<? extends Class<?>> classes)
    {
        final List<String> names = new ArrayList<>();
        classes.forEach(c -> names.add(c.getSimpleName()));
        names.sort(null);
        return String.join(", ", names);
    }

    /**
     * The replica's form of a user's configuration (a copy): DL4J updaters and regularisation replaced by
     * {@link NoOp} and none, as Baton's optimiser trains. BatchNormalization is swapped for SyncBatchNorm by the
     * caller (it knows the group size).
     */
    public static ComputationGraphConfiguration withoutDl4jTraining(final ComputationGraphConfiguration conf)
    {
        final ComputationGraphConfiguration out = conf.clone();
        for (final GraphVertex vertex : out.getVertices().values())
        {
            if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseLayer base)
            {
                base.setIUpdater(new NoOp());
                base.setBiasUpdater(new NoOp());
                base.setRegularization(new ArrayList<>());
                base.setRegularizationBias(new ArrayList<>());
            }
        }
        return out;
    }

    /**
     * What {@link #withoutDl4jTraining} replaces in {@code conf}, as one line for the driver's output (distinct
     * updaters and regularisers with their layer counts), or null when there is nothing to say.
     */
    public static String replacedSettings(final ComputationGraphConfiguration conf)
    {
        final Set<String> updaters = new LinkedHashSet<>();
        final Set<String> regularisers = new LinkedHashSet<>();
        for (final GraphVertex vertex : conf.getVertices().values())
        {
            if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseLayer base)
            {
                final IUpdater updater = base.getIUpdater();
                if (updater != null && !(updater instanceof NoOp) && !(base instanceof BatchNormalization
                    && updater.getClass() == NoOp.class))
                {
                    updaters.add(updater.getClass().getSimpleName());
                }
                if (base.getRegularization() != null)
                {
                    base.getRegularization().forEach(r -> regularisers.add(r.toString()));
                }
            }
        }
        if (updaters.isEmpty() && regularisers.isEmpty())
        {
            return null;
        }
        return "the model's DL4J training settings are replaced by Baton's optimiser (optim.*): "
            + (updaters.isEmpty() ? "" : "updater(s) " + String.join(", ", updaters))
            + (updaters.isEmpty() || regularisers.isEmpty() ? "" : "; ")
            + (regularisers.isEmpty() ? "" : "regularisation " + String.join(", ", regularisers));
    }

    /**
     * The model's identity for resume checks: SHA-256 of its configuration JSON and its parameters' bytes, as hex.
     */
    public static String identity(final ComputationGraph graph)
    {
        try
        {
            final MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(graph.getConfiguration().toJson().getBytes(StandardCharsets.UTF_8));
            final float[] params = graph.params().castTo(DataType.FLOAT).dup('c').data().asFloat();
            final ByteBuffer bytes = ByteBuffer.allocate(params.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(params);
            digest.update(bytes.array());
            return "sha256:" + HexFormat.of().formatHex(digest.digest());
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Writes {@code graph} (without updater state) as a DL4J model zip to any Hadoop file system location. */
    public static void write(final ComputationGraph graph, final String location)
    {
        try
        {
            final Path path = new Path(location);
            final FileSystem fs = path.getFileSystem(HadoopConf.fresh());
            final File local = File.createTempFile("baton-model-graph-", ".zip");
            try
            {
                ModelSerializer.writeModel(graph, local, false);
                fs.copyFromLocalFile(false, true, new Path(local.toURI()), path);
            }
            finally
            {
                local.delete();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write the model to " + location + ": " + ex.getMessage(), ex);
        }
    }
}
