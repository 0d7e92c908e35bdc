package io.baton.coordinator.evaluate;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.common.store.HadoopConf;
import io.baton.coordinator.export.CheckpointModel;
import io.baton.coordinator.spark.ReplicaBody;
import io.baton.coordinator.spark.ReplicaContext;
import io.baton.coordinator.spark.Rendezvous;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.backend.ReplicaThreads;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.run.Evaluator;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.net.URI;

/**
 * One replica of {@code baton evaluate}: loads the model, scores its contiguous block of the validation split in
 * inference mode, and sums the counts with the other replicas, so every sample is counted exactly once.
 */
final class EvaluateReplica implements ReplicaBody<EvaluationReport>
{
    private static final long serialVersionUID = 1L;

    private final String configText;
    private final String modelUri;
    private final long generation;
    private final LongAccumulator scored;

    /**
     * @param scored the driver's accumulator of samples scored (its progress line).
     */
    EvaluateReplica(final String configText, final String modelUri, final long generation,
        final LongAccumulator scored)
    {
        this.configText = configText;
        this.modelUri = modelUri;
        this.generation = generation;
        this.scored = scored;
    }

    @Override
    public EvaluationReport run(final ReplicaContext context) throws Exception
    {
        NativeRuntime.configure();
        NativeRuntime.bindDevice(context.gpuAddresses());
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).loadText(configText);
        final ComputationGraph graph = load(modelUri);
        try (ReplicaThreads.Registration threads = ReplicaThreads.enter();
             AeronCommunicator communicator = Rendezvous.connect(config, context,
                config.get(CommonKeys.JOB_NAME) + "-evaluate", generation);
             BatchSource val = DataSources.open(config, DataSources.VAL))
        {
            threads.apply(config.get(TrainerKeys.TRAIN_THREADS_PER_REPLICA));
            final Evaluator.Result result = Evaluator.evaluate(graph, communicator, val,
                Math.max(1, config.get(TrainerKeys.TRAIN_GLOBAL_BATCH) / context.worldSize()),
                scored::add);
            return new EvaluationReport(context.rank(), result);
        }
    }

    /** Reads a DL4J model zip, or a training checkpoint directory, from any Hadoop FileSystem URI or local path. */
    static ComputationGraph load(final String location) throws java.io.IOException
    {
        if (CheckpointModel.isCheckpoint(location))
        {
            return CheckpointModel.load(location).graph();
        }
        final URI resolved = DataSources.toUri(location);
        final FileSystem fs = FileSystem.get(resolved, HadoopConf.fresh());
        try (FSDataInputStream in = fs.open(new Path(resolved)))
        {
            return ModelSerializer.restoreComputationGraph(in, false);
        }
    }
}
