package io.baton.api;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.Objects;

/**
 * The model a job trains: an architecture of Baton's zoo, or the caller's own DL4J model. A
 * {@code ComputationGraph} or {@code MultiLayerNetwork} is trained from its current weights; a configuration is
 * initialised by DL4J (its seed) first. Every BatchNormalization becomes SyncBatchNorm with the same parameters and
 * statistics; Baton's optimiser ({@code optim.*}) replaces the model's DL4J updaters and regularisation; layers
 * Baton cannot train exactly (recurrent state, dropout, frozen layers, a non-classifier output) are refused by name
 * before anything starts.
 *
 * <p>Immutable; the graph given is neither changed nor kept beyond the call that trains it.
 */
public final class Model
{
    private final String zooArch;
    private final String zip;
    private final ComputationGraph graph;

    private Model(final String zooArch, final String zip, final ComputationGraph graph)
    {
        this.zooArch = zooArch;
        this.zip = zip;
        this.graph = graph;
    }

    /** A zoo architecture by name ({@code resnet20}, {@code resnet50}, ...; {@code baton config --reference}). */
    public static Model zoo(final String arch)
    {
        return new Model(Objects.requireNonNull(arch, "arch"), null, null);
    }

    /** A DL4J model zip (ModelSerializer's format, a graph or a network) at any Hadoop FS URI. */
    public static Model zip(final String uri)
    {
        return new Model(null, Objects.requireNonNull(uri, "uri"), null);
    }

    /** The caller's graph, trained from its current weights. */
    public static Model of(final ComputationGraph graph)
    {
        return new Model(null, null, Objects.requireNonNull(graph, "graph"));
    }

    /** The caller's network, trained from its current weights as the equivalent graph (DL4J's conversion). */
    public static Model of(final MultiLayerNetwork network)
    {
        Objects.requireNonNull(network, "network");
        return new Model(null, null, network.toComputationGraph());
    }

    /** A graph configuration, initialised by DL4J with its own seed. */
    public static Model of(final ComputationGraphConfiguration configuration)
    {
        final ComputationGraph graph = new ComputationGraph(Objects.requireNonNull(configuration, "configuration")
            .clone());
        graph.init();
        return new Model(null, null, graph);
    }

    /** A network configuration, initialised by DL4J with its own seed, as the equivalent graph. */
    public static Model of(final MultiLayerConfiguration configuration)
    {
        final MultiLayerNetwork network = new MultiLayerNetwork(Objects.requireNonNull(configuration,
            "configuration").clone());
        network.init();
        return of(network);
    }

    /** The model a validated configuration names: {@code model.graph} when set, else the zoo's {@code model.arch}. */
    public static Model of(final io.baton.common.config.BatonConfig config)
    {
        final String graph = config.get(io.baton.trainer.TrainerKeys.MODEL_GRAPH);
        return graph != null ? zip(graph) : zoo(config.get(io.baton.trainer.TrainerKeys.MODEL_ARCH));
    }

    /** The zoo architecture, or null for a user's model. */
    String zooArch()
    {
        return zooArch;
    }

    /** The user's model zip, or null. */
    String zipUri()
    {
        return zip;
    }

    /** The user's in-memory graph, or null. */
    ComputationGraph graph()
    {
        return graph;
    }

    @Override
    public String toString()
    {
        return zooArch != null ? "zoo " + zooArch : zip != null ? "model zip " + zip : "user graph ("
            + graph.getNumLayers() + " layers, " + graph.numParams() + " parameters)";
    }
}
