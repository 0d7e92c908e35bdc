package io.baton.coordinator.train;

import com.typesafe.config.ConfigUtil;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.model.UserGraphs;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Stamps what a run trains on into its configuration: {@code data.identity} from data.path's manifest and
 * {@code model.graph-identity} from model.graph's contents. Both travel in run.conf and in every checkpoint's
 * configuration, so a resume on other data or another user model is refused like any change of the trajectory.
 *
 * <p>Threading: stateless; any thread.
 */
final class ConfigIdentities
{
    private ConfigIdentities()
    {
    }

    /**
     * The configuration with {@code model.graph-identity} set from model.graph's contents, so a resume with another
     * user model is refused like any trajectory change; unchanged for the zoo.
     */
    static BatonConfig withModelIdentity(final BatonConfig config)
    {
        final String location = config.get(TrainerKeys.MODEL_GRAPH);
        return withModelIdentity(config, location == null ? null : UserGraphs.load(location));
    }

    /** As {@link #withModelIdentity(BatonConfig)} with model.graph as loaded (null for the zoo). */
    static BatonConfig withModelIdentity(final BatonConfig config, final ComputationGraph userGraph)
    {
        final String identity = userGraph == null ? "" : UserGraphs.identity(userGraph);
        if (identity.equals(config.get(TrainerKeys.MODEL_GRAPH_IDENTITY)))
        {
            return config;
        }
        return new ConfigLoader(config.def()).loadText(config.render() + "\n" + TrainerKeys.MODEL_GRAPH_IDENTITY.name()
            + " = " + ConfigUtil.quoteString(identity) + "\n");
    }

    /**
     * The configuration with {@code data.identity} set from data.path's manifest. It travels in run.conf and in every
     * checkpoint's configuration, so a resume on data prepared differently (a class renamed or added, other images)
     * is refused as a change of the trajectory: the sampler's order and the labels would no longer be the run's.
     */
    static BatonConfig withDataIdentity(final BatonConfig config)
    {
        final String identity = DataSources.identity(config);
        if (identity.equals(config.get(TrainerKeys.DATA_IDENTITY)))
        {
            return config;
        }
        return new ConfigLoader(config.def()).loadText(config.render() + "\n" + TrainerKeys.DATA_IDENTITY.name()
            + " = " + ConfigUtil.quoteString(identity) + "\n");
    }
}
