package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.common.config.CommonKeys;
import io.baton.coordinator.spark.ReplicaBody;
import io.baton.coordinator.spark.ReplicaContext;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.replica.ParamChecksum;
import io.baton.trainer.run.Evaluator;
import io.baton.trainer.run.ReplicaTrainer;
import io.baton.trainer.run.StepMetrics;
import io.baton.trainer.run.TimedCommunicator;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/**
 * The body of one replica of {@code baton train}, run inside a Spark barrier task: connect to the other replicas,
 * build the model and data, train, evaluate on the validation split, and (rank 0) write metrics and the model.
 */
final class TrainReplica implements ReplicaBody<ReplicaReport>
{
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainReplica.class);

    private final String configText;
    private final long generation;

    TrainReplica(final String configText, final long generation)
    {
        this.configText = configText;
        this.generation = generation;
    }

    @Override
    public ReplicaReport run(final ReplicaContext context) throws Exception
    {
        NativeRuntime.configure();
        final long startNs = System.nanoTime();
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).loadText(configText);
        final int rank = context.rank();
        final String device = NativeRuntime.bindDevice(context.gpuAddresses());
        LOG.info("replica {}/{} on {}: {}", rank, context.worldSize(), context.host(), device);
        final RunDirectory run = new RunDirectory(config.get(io.baton.coordinator.CoordinatorKeys.RUN_DIR));

        try (TimedCommunicator communicator = new TimedCommunicator(ReplicaComms.connect(config, context, generation));
             BatchSource train = DataSources.open(config, DataSources.TRAIN);
             BatchSource val = DataSources.open(config, DataSources.VAL);
             MetricsLog metrics = rank == 0 ? new MetricsLog(run, false) : null)
        {
            final int[] chw = train.shape();
            final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {chw[1], chw[2], chw[0]},
                train.numClasses());
            if (config.get(TrainerKeys.MODEL_SYNCBN))
            {
                SyncBatchNorm.bind(graph, communicator);
            }
            final StepMetrics[] last = new StepMetrics[1];
            final Consumer<StepMetrics> listener = m ->
            {
                last[0] = m;
                if (metrics != null)
                {
                    metrics.accept(m);
                }
            };
            final ReplicaTrainer trainer = new ReplicaTrainer(graph, communicator, train,
                TrainPlan.sampler(config, train.size(), context.worldSize()), TrainingRecipe.schedule(config),
                config.get(TrainerKeys.TRAIN_EPOCHS), config.get(CommonKeys.COLLECTIVE_CHECKSUM_EVERY),
                TrainingRecipe.optimizer(config, graph), listener);
            trainer.synchronizeInitialState();
            final long steps = trainer.train(0);
            final Evaluator.Result eval = Evaluator.evaluate(graph, communicator, val,
                config.get(TrainerKeys.TRAIN_GLOBAL_BATCH) / context.worldSize());
            if (rank == 0)
            {
                try (FSDataOutputStream out = run.fileSystem().create(run.path(RunDirectory.MODEL), true))
                {
                    ModelSerializer.writeModel(graph, out, false);
                }
            }
            return new ReplicaReport(rank, steps, (System.nanoTime() - startNs) / 1e9,
                last[0] == null ? Double.NaN : last[0].loss(), eval.top1(), eval.top5(), eval.loss(), eval.samples(),
                ParamChecksum.of(graph.params()), String.join(",", context.gpuAddresses()));
        }
    }
}
