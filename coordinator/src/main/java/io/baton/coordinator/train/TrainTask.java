package io.baton.coordinator.train;

import io.baton.common.store.HadoopConf;
import io.baton.common.store.LocalWrites;
import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.collective.Communicator;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.config.BatonConfig;
import io.baton.common.config.CommonKeys;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.metrics.ReplicaTimingsAccumulator;
import io.baton.coordinator.spark.ReplicaBody;
import io.baton.coordinator.report.HealthLog;
import io.baton.trainer.health.HealthCheck;
import io.baton.trainer.health.HealthMonitor;
import io.baton.trainer.health.HealthThresholds;
import org.deeplearning4j.nn.conf.inputs.InputType;
import io.baton.coordinator.spark.ReplicaContext;
import io.baton.coordinator.spark.Rendezvous;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.backend.ReplicaThreads;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.DataSources;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.export.ModelClasses;
import io.baton.trainer.replica.OverlappedAllReduce;
import io.baton.trainer.replica.ParamChecksum;
import io.baton.trainer.run.Evaluator;
import io.baton.trainer.run.ReplicaState;
import io.baton.trainer.run.TrainingLoop;
import io.baton.trainer.run.StepMetrics;
import io.baton.trainer.run.TimedCommunicator;
import io.baton.trainer.run.TrainOutcome;
import io.baton.trainer.syncbn.BnGroups;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * The body of one replica of {@code baton train}, run inside a Spark barrier task: connect to the other replicas,
 * build the model and data, load the stage's checkpoint (rank 0 reads it, then every rank receives rank 0's
 * parameters, optimiser state and counters through the initial broadcast), train from the stage's start step with
 * checkpoints, and, when training completed, evaluate on the validation split and (rank 0) write the model.
 */
final class TrainTask implements ReplicaBody<ReplicaReport>
{
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainTask.class);
    /** What a completed stage reports when {@code run.final-evaluation} is off: no sample scored. */
    private static final Evaluator.Result NOT_EVALUATED = new Evaluator.Result(0, 0, 0, 0);

    private final String userConfigText;
    private final StageSpec spec;
    private final ReplicaTimingsAccumulator timings;

    /**
     * @param userConfigText the job configuration as the user gave it (HOCON).
     * @param spec           the stage.
     * @param timings        where every replica records its step times for the driver's Prometheus endpoint (sent
     *                       with executor heartbeats); null when the endpoint is off.
     */
    TrainTask(final String userConfigText, final StageSpec spec, final ReplicaTimingsAccumulator timings)
    {
        this.userConfigText = userConfigText;
        this.spec = spec;
        this.timings = timings;
    }

    /** The configuration a stage trains with: the user's, with the stage's world size and global batch. */
    static BatonConfig effectiveConfig(final String userConfigText, final StageSpec spec)
    {
        final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());
        final BatonConfig user = loader.loadText(userConfigText);
        String stage = userConfigText + "\n" + TrainerKeys.TRAIN_REPLICAS.name() + " = " + spec.worldSize() + "\n"
            + TrainerKeys.TRAIN_GLOBAL_BATCH.name() + " = " + spec.globalBatch() + "\n";
        final int groupSize = user.get(TrainerKeys.SYNCBN_GROUP_SIZE);
        if (user.get(TrainerKeys.MODEL_SYNCBN) && groupSize > 0
            && spec.worldSize() != user.get(TrainerKeys.TRAIN_REPLICAS))
        {
            // An elastic stage keeps the number of SyncBatchNorm groups (ElasticPlan), with fewer replicas in each.
            final int groups = BnGroups.groupCount(user.get(TrainerKeys.TRAIN_REPLICAS), groupSize);
            stage += TrainerKeys.SYNCBN_GROUP_SIZE.name() + " = " + spec.worldSize() / groups + "\n";
        }
        return loader.loadText(stage);
    }

    @Override
    public ReplicaReport run(final ReplicaContext context) throws Exception
    {
        if (context.stageAttempt() > 0)
        {
            // Spark's own retry of the barrier stage (a user's context keeps spark.stage.maxConsecutiveAttempts):
            // its spec names a checkpoint that may be stale. Baton's driver relaunches from the newest one itself.
            throw new IllegalStateException("Spark retried the barrier stage (attempt " + context.stageAttempt()
                + "); Baton relaunches failed stages itself from the newest checkpoint, so this attempt ends at once");
        }
        NativeRuntime.configure();
        final long startNs = System.nanoTime();
        final String configHash = new ConfigLoader(ConfigDef.discover()).loadText(userConfigText).trajectoryHash();
        final BatonConfig config = effectiveConfig(userConfigText, spec);
        final int rank = context.rank();
        if (context.worldSize() != spec.worldSize())
        {
            throw new IllegalStateException("stage launched with " + context.worldSize() + " tasks for a world of "
                + spec.worldSize());
        }
        final String device = NativeRuntime.bindDevice(context.gpuAddresses());
        LOG.info("replica {}/{} on {}: {}; stage from step {} (checkpoint {}), generation {}", rank,
            context.worldSize(), context.host(), device, spec.startStep(), spec.checkpointStep(), spec.generation());
        final RunDirectory run = new RunDirectory(config.get(CoordinatorKeys.RUN_DIR));

        try (ReplicaThreads.Registration threads = ReplicaThreads.enter())
        {
            return train(config, context, configHash, run, threads, Rendezvous.exchange(config, context), startNs);
        }
        catch (final IllegalAccessError ex)
        {
            // Agrona (Aeron) reads jdk.internal.misc; an executor started without Baton's flags cannot open it.
            throw new IllegalStateException("this executor's JVM lacks Baton's flags (" + ex.getMessage() + "): add "
                + "Baton.executorJavaOptions() to spark.executor.extraJavaOptions (Baton.sparkConf(conf) does it)", ex);
        }
    }

    private ReplicaReport train(final BatonConfig config, final ReplicaContext context, final String configHash,
        final RunDirectory run, final ReplicaThreads.Registration threads, final Rendezvous rendezvous,
        final long startNs) throws Exception
    {
        final int rank = context.rank();
        final FaultPoints faults = FaultPoints.from(config, rank);
        try (TimedCommunicator communicator = new TimedCommunicator(connect(config, rendezvous, faults));
             TimedCommunicator bnGroup = bnGroup(config, context, rendezvous);
             BatchSource train = DataSources.open(config, DataSources.TRAIN);
             BatchSource val = DataSources.open(config, DataSources.VAL);
             MetricsLog metrics = rank == 0 ? new MetricsLog(run, spec.appendMetrics(), spec.checkpointStep()) : null;
             HealthLog healthLog = rank == 0 ? new HealthLog(run, spec.appendMetrics(), spec.checkpointStep()) : null)
        {
            // After the rendezvous every replica of this JVM has entered: the share is exact.
            final int computeThreads = threads.apply(config.get(TrainerKeys.TRAIN_THREADS_PER_REPLICA));
            LOG.info("replica {}: {} compute thread(s) ({} replica(s) in this JVM, {} processors)", rank,
                computeThreads, ReplicaThreads.active(), ReplicaThreads.processors());
            final int[] chw = train.shape();
            final ComputationGraph graph = TrainingRecipe.replicaGraph(config, new int[] {chw[1], chw[2], chw[0]},
                train.numClasses());
            if (config.get(TrainerKeys.MODEL_SYNCBN))
            {
                SyncBatchNorm.bind(graph, bnGroup != null ? bnGroup : communicator);
            }
            // The check's forward/backward passes are collectives with SyncBN: every rank runs it, rank 0 logs it.
            final HealthMonitor health = new HealthMonitor(new HealthCheck(graph,
                InputType.convolutional(chw[1], chw[2], chw[0]), HealthThresholds.from(config)),
                config.get(TrainerKeys.HEALTH_EVERY), healthLog == null ? report -> { } : healthLog);
            final StepMetrics[] last = new StepMetrics[1];
            if (timings != null)
            {
                timings.rank(rank);
            }
            final Consumer<StepMetrics> listener = m ->
            {
                last[0] = m;
                if (timings != null)
                {
                    timings.add(m);
                }
                if (metrics != null)
                {
                    faults.reach("metrics", m.step(), 1, "before appending the metrics line of step " + m.step());
                    metrics.accept(m);
                }
            };
            final LargeBatchSgd optimizer = TrainingRecipe.optimizer(config, graph);
            final GlobalBatchSampler sampler = TrainPlan.sampler(config, train.size(), context.worldSize());
            final TrainingLoop trainer = new TrainingLoop(graph, communicator, train, sampler,
                TrainingRecipe.schedule(config), config.get(TrainerKeys.TRAIN_EPOCHS),
                config.get(CommonKeys.COLLECTIVE_CHECKSUM_EVERY), optimizer, listener)
                .hugeActivation(config.get(CoordinatorKeys.RECOVERY_HUGE_ACTIVATION))
                .bnGroupCommunicator(bnGroup);
            final ReplicaState state = new ReplicaState(graph, optimizer);
            if (rank == 0 && spec.checkpointDir() != null)
            {
                restore(state, graph);
            }
            trainer.synchronizeInitialState();

            final TrainOutcome outcome;
            try (OverlappedAllReduce overlap = overlap(config, context, graph, rendezvous);
                 StageHooks hooks = new StageHooks(spec, config, userConfigText, configHash, rank,
                     sampler.stepsPerEpoch(), graph, state, health, context::cancelled, faults))
            {
                if (timings != null)
                {
                    hooks.publishListener((step, bytes, durationNs) -> timings.addCheckpoint(durationNs / 1e9, bytes));
                }
                trainer.step().overlap(overlap);
                outcome = trainer.train(spec.startStep(), hooks);
                hooks.flush();
            }
            if (outcome.kind() != TrainOutcome.Kind.COMPLETED)
            {
                // Stopped where every rank stops (a non-finite step, the stage's boundary): a clean end.
                closeForReuse(communicator, bnGroup);
                return new ReplicaReport(rank, outcome.stepsTaken(), (System.nanoTime() - startNs) / 1e9,
                    last[0] == null ? Double.NaN : last[0].loss(), Double.NaN, Double.NaN, Double.NaN, 0,
                    ParamChecksum.of(graph.params()), String.join(",", context.gpuAddresses()), outcome.kind(),
                    outcome.nextStep(), outcome.diagnosis());
            }
            // Every rank reads the same key, so either all take part in the evaluation's collectives or none does.
            final Evaluator.Result eval = config.get(CoordinatorKeys.RUN_FINAL_EVALUATION)
                ? Evaluator.evaluate(graph, communicator, val,
                    Math.max(1, config.get(TrainerKeys.TRAIN_GLOBAL_BATCH) / context.worldSize()))
                : NOT_EVALUATED;
            if (rank == 0)
            {
                try (FSDataOutputStream out = LocalWrites.create(run.fileSystem(), run.path(RunDirectory.MODEL)))
                {
                    ModelClasses.writeModel(graph, false, train.classNames(), out);
                }
            }
            closeForReuse(communicator, bnGroup);
            return new ReplicaReport(rank, outcome.stepsTaken(), (System.nanoTime() - startNs) / 1e9,
                last[0] == null ? Double.NaN : last[0].loss(), eval.top1(), eval.top5(), eval.loss(), eval.samples(),
                ParamChecksum.of(graph.params()), String.join(",", context.gpuAddresses()), outcome.kind(),
                outcome.nextStep(), "");
        }
    }

    /**
     * Every rank finished the stage's last collective: the communicators may leave their links to the next stage of
     * this JVM ({@link io.baton.common.collective.Communicator#closeForReuse()}: with {@code collective.driver-linger}
     * and IPC only); the try block's close then does nothing. A replica that throws closes them as before, so its
     * peers see it leave.
     */
    private static void closeForReuse(final TimedCommunicator communicator, final TimedCommunicator bnGroup)
    {
        communicator.closeForReuse();
        if (bnGroup != null)
        {
            bnGroup.closeForReuse();
        }
    }

    /** The replica's communicator, reaching the armed {@code debug.fault-points} of its collectives. */
    private Communicator connect(final BatonConfig config, final Rendezvous rendezvous, final FaultPoints faults)
    {
        final Communicator communicator = rendezvous.connect(config.get(CommonKeys.JOB_NAME), spec.generation());
        return faults == FaultPoints.NONE ? communicator : new FaultPointCommunicator(communicator, faults);
    }

    /**
     * The overlapped gradient all-reduce on its own communicator, or null when it is off, the world has one replica
     * or the model has no SyncBatchNorm (whose backward gives the buckets their start). Every rank decides alike.
     */
    /**
     * The communicator of this replica's SyncBatchNorm group when {@code syncbn.group-size} makes groups smaller than
     * the world; null when SyncBN is off or synchronises the whole world (the replica's communicator serves).
     */
    private TimedCommunicator bnGroup(final BatonConfig config, final ReplicaContext context,
        final Rendezvous rendezvous)
    {
        final int groupSize = config.get(TrainerKeys.SYNCBN_GROUP_SIZE);
        if (!config.get(TrainerKeys.MODEL_SYNCBN)
            || BnGroups.effectiveGroupSize(context.worldSize(), groupSize) == context.worldSize())
        {
            return null;
        }
        if (context.rank() == 0)
        {
            LOG.info("SyncBatchNorm statistics in {} group(s) of {} replica(s)",
                BnGroups.groupCount(context.worldSize(), groupSize), groupSize);
        }
        return new TimedCommunicator(rendezvous.connectBnGroup(config.get(CommonKeys.JOB_NAME), spec.generation(),
            groupSize));
    }

    private OverlappedAllReduce overlap(final BatonConfig config, final ReplicaContext context,
        final ComputationGraph graph, final Rendezvous rendezvous)
    {
        if (!config.get(TrainerKeys.TRAIN_OVERLAP_ALLREDUCE) || context.worldSize() == 1
            || !config.get(TrainerKeys.MODEL_SYNCBN))
        {
            return null;
        }
        final OverlappedAllReduce overlap = new OverlappedAllReduce(graph,
            rendezvous.connectGradients(config.get(CommonKeys.JOB_NAME), spec.generation()),
            config.get(TrainerKeys.TRAIN_ALLREDUCE_BUCKET));
        if (context.rank() == 0)
        {
            LOG.info("gradient all-reduce overlaps backward: {}", overlap.plan().buckets().size() + " bucket(s)");
        }
        return overlap;
    }

    /** Rank 0 loads the stage's checkpoint (every part verified while read) and its DL4J counters. */
    private void restore(final ReplicaState state, final ComputationGraph graph) throws IOException
    {
        try (CheckpointStore store = CheckpointStore.openReadOnly(spec.checkpointDir(), HadoopConf.fresh()))
        {
            final Checkpoint checkpoint = store.open(spec.checkpointStep());
            state.restore(checkpoint);
            final TrainCheckpoint.Position position = TrainCheckpoint.Position.of(checkpoint);
            graph.getConfiguration().setIterationCount(position.iteration());
            graph.getConfiguration().setEpochCount(position.dl4jEpoch());
            LOG.info("restored {} (step {}, epoch {}, step {} of the epoch, written by {} replicas)",
                checkpoint.path(), position.step(), position.epoch(), position.stepInEpoch(), position.worldSize());
        }
    }
}
