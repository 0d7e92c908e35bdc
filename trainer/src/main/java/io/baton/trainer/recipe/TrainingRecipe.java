package io.baton.trainer.recipe;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.ModelConfigs;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.layers.ReplicaLayers;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.NormLayerFactory;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.model.UserGraphs;
import io.baton.trainer.optim.LabelSmoothing;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.schedule.DecayKind;
import io.baton.trainer.schedule.LrSchedule;
import io.baton.trainer.syncbn.SyncBatchNorm;
import io.baton.trainer.syncbn.SyncBatchNormSwap;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.List;
import java.util.Locale;

/**
 * Builds the objects of the large-batch recipe from a validated job configuration: the learning-rate schedule,
 * Baton's optimiser and the replica model graph (the zoo's {@code model.arch}, or the user's graph from
 * {@code model.graph}; SyncBatchNorm when {@code model.syncbn}, label-smoothed loss when
 * {@code optim.label-smoothing > 0}).
 *
 * <p>The graph's DL4J updater is {@link NoOp}: replicas built here are trained by {@link LargeBatchSgd} through
 * {@code new SynchronousStep(graph, comm, k, optimizer)}; the DL4J-updater constructor of {@code SynchronousStep} refuses
 * such a graph rather than silently not training it.
 *
 * <p>Thread-safe (stateless).
 */
public final class TrainingRecipe
{
    private TrainingRecipe()
    {
    }

    /** The LR schedule: {@code optim.*} keys, {@code train.global-batch} and {@code train.epochs}. */
    public static LrSchedule schedule(final BatonConfig config)
    {
        final List<Integer> decayEpochs = config.get(TrainerKeys.OPTIM_DECAY_EPOCHS);
        return new LrSchedule(
            config.get(TrainerKeys.OPTIM_BASE_LR),
            config.get(TrainerKeys.OPTIM_BASE_BATCH),
            config.get(TrainerKeys.TRAIN_GLOBAL_BATCH),
            config.get(TrainerKeys.OPTIM_WARMUP_EPOCHS),
            config.get(TrainerKeys.OPTIM_WARMUP_START_FACTOR),
            DecayKind.valueOf(config.get(TrainerKeys.OPTIM_SCHEDULE).toUpperCase(Locale.ROOT)),
            decayEpochs.stream().mapToInt(Integer::intValue).toArray(),
            config.get(TrainerKeys.OPTIM_DECAY_FACTOR),
            config.get(TrainerKeys.TRAIN_EPOCHS));
    }

    /** Momentum, Nesterov, weight decay, LARS and clipping from {@code optim.*}. */
    public static SgdSettings sgdSettings(final BatonConfig config)
    {
        return new SgdSettings(
            config.get(TrainerKeys.OPTIM_MOMENTUM),
            config.get(TrainerKeys.OPTIM_NESTEROV),
            config.get(TrainerKeys.OPTIM_WEIGHT_DECAY),
            config.get(TrainerKeys.OPTIM_LARS),
            config.get(TrainerKeys.OPTIM_LARS_TRUST),
            config.get(TrainerKeys.OPTIM_MAX_GRAD_NORM));
    }

    /** SyncBatchNorm with {@code syncbn.group-size} when {@code model.syncbn}, else DL4J's BN. */
    public static NormLayerFactory normLayers(final BatonConfig config)
    {
        if (!config.get(TrainerKeys.MODEL_SYNCBN))
        {
            return NormLayerFactory.standard();
        }
        final int groupSize = config.get(TrainerKeys.SYNCBN_GROUP_SIZE);
        return spec ->
        {
            final SyncBatchNorm layer = spec.applyTo(new SyncBatchNorm());
            layer.setGroupSize(groupSize);
            return layer;
        };
    }

    /**
     * The replica graph's configuration.
     *
     * @param config  validated job configuration.
     * @param input   {height, width, channels} of the data, or null for the architecture's default.
     * @param classes number of classes of the data, or null for the architecture's default.
     */
    public static ComputationGraphConfiguration modelConfiguration(
        final BatonConfig config, final int[] input, final Integer classes)
    {
        final String userGraph = config.get(TrainerKeys.MODEL_GRAPH);
        if (userGraph != null)
        {
            return replicaConfiguration(config, UserGraphs.load(userGraph).getConfiguration());
        }
        final ModelOptions options = ModelConfigs.modelOptions(config, input, classes);
        final ComputationGraphConfiguration conf = fastLayers(config,
            ResNetZoo.configuration(options, normLayers(config), new NoOp()));
        LabelSmoothing.apply(conf, config.get(TrainerKeys.OPTIM_LABEL_SMOOTHING));
        return conf;
    }

    /**
     * The replica form of a user's graph configuration (a copy; {@link UserGraphs}): Baton's optimiser instead of its
     * DL4J updaters and regularisation, SyncBatchNorm with {@code syncbn.group-size} instead of its BatchNormalization
     * when {@code model.syncbn}, Baton's layer implementations when {@code model.fast-layers}, and the label-smoothed
     * loss when {@code optim.label-smoothing > 0}.
     */
    public static ComputationGraphConfiguration replicaConfiguration(final BatonConfig config,
        final ComputationGraphConfiguration user)
    {
        ComputationGraphConfiguration conf = UserGraphs.withoutDl4jTraining(user);
        if (config.get(TrainerKeys.MODEL_SYNCBN))
        {
            conf = SyncBatchNormSwap.toSyncBatchNorm(conf, config.get(TrainerKeys.SYNCBN_GROUP_SIZE));
        }
        conf = fastLayers(config, conf);
        LabelSmoothing.apply(conf, config.get(TrainerKeys.OPTIM_LABEL_SMOOTHING));
        return conf;
    }

    /**
     * {@code conf} with Baton's layer implementations ({@link ReplicaLayers}) when {@code model.fast-layers}, the
     * convolutions on {@code model.conv-engine}.
     */
    private static ComputationGraphConfiguration fastLayers(final BatonConfig config,
        final ComputationGraphConfiguration conf)
    {
        return config.get(TrainerKeys.MODEL_FAST_LAYERS)
            ? ReplicaLayers.toReplica(conf, config.get(TrainerKeys.MODEL_CONV_ENGINE)) : conf;
    }

    /** The initialised replica graph (SyncBatchNorm layers still to be bound to a communicator). */
    public static ComputationGraph replicaGraph(final BatonConfig config, final int[] input, final Integer classes)
    {
        final String userGraph = config.get(TrainerKeys.MODEL_GRAPH);
        if (userGraph != null)
        {
            // The user's weights are the initial ones (rank 0's are broadcast); the layout is unchanged by the swaps.
            final ComputationGraph user = UserGraphs.load(userGraph);
            final ComputationGraph graph = new ComputationGraph(replicaConfiguration(config, user.getConfiguration()));
            graph.init(user.params().dup(), false);
            return graph;
        }
        final ComputationGraph graph = new ComputationGraph(modelConfiguration(config, input, classes));
        graph.init();
        return graph;
    }

    /** Baton's optimiser for {@code graph}, with fresh (zero) momentum. */
    public static LargeBatchSgd optimizer(final BatonConfig config, final ComputationGraph graph)
    {
        return new LargeBatchSgd(ParamLayout.of(graph), sgdSettings(config));
    }
}
