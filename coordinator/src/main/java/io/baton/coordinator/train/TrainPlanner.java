package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.spark.SparkContexts;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.model.UserGraphs;
import io.baton.trainer.recipe.TrainingRecipe;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Locale;

/**
 * The checks of a training job before anything starts: sizes both data splits into a {@link TrainPlan}, refuses a
 * user model (model.graph) that cannot train on that data, and for a local master runs the {@link MemoryPreflight}.
 * Keeps what planning found worth saying: the model note and the memory warning.
 *
 * <p>Threading: the driver's thread; one instance per job.
 */
final class TrainPlanner
{
    /**
     * model.graph as loaded once by the job's constructor for its identity, then used by {@link #plan}'s checks and
     * memory estimate (each a load of the zip before: ~40 ms for a ResNet-20 on a 2-core VM); dropped after planning.
     * Null for a zoo model.
     */
    private ComputationGraph userGraph;
    private int[] imageChw;
    private String memoryWarning;
    private String modelNote;

    TrainPlanner(final ComputationGraph userGraph)
    {
        this.userGraph = userGraph;
    }

    /** What {@link #plan} said about a user's model (its size, the DL4J settings replaced), or null. */
    String modelNote()
    {
        return modelNote;
    }

    /** {@link #plan}'s warning when the replicas of a local job may not fit this JVM's native memory, or null. */
    String memoryWarning()
    {
        return memoryWarning;
    }

    /**
     * Sizes the data and plans the run without starting Spark; for a local master, also checks that the replicas fit
     * this JVM's native memory ({@link MemoryPreflight}).
     */
    TrainPlan plan(final BatonConfig config)
    {
        final TrainPlan plan = sizedPlan(config);
        final String location = config.get(TrainerKeys.MODEL_GRAPH);
        ComputationGraphConfiguration userConfiguration = null;
        if (location != null)
        {
            // Refused here, before anything starts, rather than by every replica of the first stage.
            final ComputationGraph user = userGraph != null ? userGraph : UserGraphs.load(location);
            // The replica form for the memory estimate, taken before the check's forward pass uses the graph.
            userConfiguration = TrainingRecipe.replicaConfiguration(config, user.getConfiguration());
            UserGraphs.requireTrainable(user, imageChw, plan.numClasses(), TrainerKeys.MODEL_GRAPH.name()
                + " = " + location);
            final String replaced = UserGraphs.replacedSettings(user.getConfiguration());
            modelNote = String.format(Locale.ROOT, "model %s: %,d parameters, %d layers%s", location,
                user.numParams(), user.getNumLayers(), replaced == null ? "" : "; " + replaced);
        }
        memoryWarning = checkMemory(config, plan, userConfiguration);
        userGraph = null;
        return plan;
    }

    /**
     * For a local master, {@link MemoryPreflight}'s warning (or refusal) for this configuration; else null.
     *
     * @param userConfiguration the replica form of model.graph's configuration when at hand, else null (loaded then).
     */
    static String checkMemory(final BatonConfig config, final TrainPlan plan,
        final ComputationGraphConfiguration userConfiguration)
    {
        final String master = SparkContexts.master(config);
        if (master.equals("local") || master.startsWith("local["))
        {
            // Every replica runs in this JVM: check that they fit before Spark starts.
            return MemoryPreflight.check(config, plan.perReplicaBatch(), plan.worldSize(), plan.numClasses(),
                userConfiguration);
        }
        return null;
    }

    private TrainPlan sizedPlan(final BatonConfig config)
    {
        // Opening both splits here refuses a data.path without its prepared splits before anything starts.
        try (BatchSource train = DataSources.open(config, DataSources.TRAIN);
             BatchSource val = DataSources.open(config, DataSources.VAL))
        {
            imageChw = train.shape();
            return TrainPlan.of(config, train.size(), val.size(), train.numClasses());
        }
        catch (final IllegalArgumentException ex)
        {
            if (config.get(TrainerKeys.DATA_PATH) != null)
            {
                throw ex;
            }
            // A job configuration written for real data, run without --data: say which data was sized.
            throw new IllegalArgumentException(ex.getMessage() + " (" + TrainerKeys.DATA_PATH.name() + " is not set, "
                + "so this is the generated data set of " + TrainerKeys.DATA_SYNTHETIC_SAMPLES.name() + " = "
                + config.get(TrainerKeys.DATA_SYNTHETIC_SAMPLES) + " images; give the prepared data with --data)", ex);
        }
    }
}
