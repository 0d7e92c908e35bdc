package io.baton.trainer.run;

import io.baton.common.collective.ReduceOp;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.replica.ReplicaStep;
import io.baton.trainer.replica.StepResult;
import io.baton.trainer.schedule.LrSchedule;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * The training loop of one replica: for every epoch and step, load this replica's slice of the global batch, set the
 * scheduled learning rate, take one synchronous step, and report global metrics. Every replica runs the same loop
 * in lock step (each step is a sequence of collectives).
 *
 * <p>Threading: runs on the calling thread, which must be the only user of the graph and the communicator.
 */
public final class ReplicaTrainer
{
    private final ComputationGraph graph;
    private final TimedCommunicator communicator;
    private final BatchSource source;
    private final GlobalBatchSampler sampler;
    private final LrSchedule schedule;
    private final int epochs;
    private final ReplicaStep step;
    private final Consumer<StepMetrics> listener;

    /**
     * @param graph        the replica's network (initialised; SyncBatchNorm layers already bound to the communicator).
     * @param communicator the replica's communicator, timed.
     * @param source       the training split.
     * @param sampler      the world-size-invariant order of the training split.
     * @param schedule     learning rate per step.
     * @param epochs       epochs to train.
     * @param checksumEverySteps compare parameter checksums across replicas this often (0 = never).
     * @param optimizer    Baton's optimiser for this graph, or null to use the graph's DL4J updater.
     * @param listener     receives every step's metrics (on every rank; write them from one).
     */
    public ReplicaTrainer(
        final ComputationGraph graph,
        final TimedCommunicator communicator,
        final BatchSource source,
        final GlobalBatchSampler sampler,
        final LrSchedule schedule,
        final int epochs,
        final int checksumEverySteps,
        final LargeBatchSgd optimizer,
        final Consumer<StepMetrics> listener)
    {
        this.graph = Objects.requireNonNull(graph, "graph");
        this.communicator = Objects.requireNonNull(communicator, "communicator");
        this.source = Objects.requireNonNull(source, "source");
        this.sampler = Objects.requireNonNull(sampler, "sampler");
        this.schedule = Objects.requireNonNull(schedule, "schedule");
        this.epochs = epochs;
        this.listener = Objects.requireNonNull(listener, "listener");
        this.step = new ReplicaStep(graph, communicator, checksumEverySteps, optimizer);
    }

    /** Makes every replica start from rank 0's parameters and updater state (a collective). */
    public void synchronizeInitialState()
    {
        step.broadcastInitialState();
    }

    /**
     * Trains from the given epoch to the end.
     *
     * @return the number of steps taken.
     */
    public long train(final int startEpoch)
    {
        final int rank = communicator.rank();
        final long stepsPerEpoch = sampler.stepsPerEpoch();
        long globalStep = (long) startEpoch * stepsPerEpoch;
        long taken = 0;
        for (int epoch = startEpoch; epoch < epochs; epoch++)
        {
            final GlobalBatchSampler.EpochOrder order = sampler.epoch(epoch);
            graph.getConfiguration().setEpochCount(epoch);
            for (int s = 0; s < order.steps(); s++)
            {
                final long startNs = System.nanoTime();
                final int[] ids = order.slice(s, rank);
                final BatchSource.Batch batch = source.load(ids, epoch, true);
                if (s + 1 < order.steps())
                {
                    source.prefetch(order.slice(s + 1, rank), epoch, true);
                }
                final long loadedNs = System.nanoTime();
                final double lr = schedule.lr(globalStep, stepsPerEpoch);
                final long commStartNs = communicator.totalNs();
                final StepResult result = step.step(batch.features(), batch.labels(), order.batchSize(s), lr);
                final double[] sums = {result.localLoss() * ids.length, ids.length};
                communicator.allReduceSmall(sums, ReduceOp.SUM);
                final long endNs = System.nanoTime();
                final double stepSeconds = (endNs - startNs) / 1e9;
                listener.accept(new StepMetrics(
                    globalStep,
                    epoch,
                    s,
                    order.steps(),
                    lr,
                    sums[0] / sums[1],
                    Double.NaN,
                    order.batchSize(s),
                    order.batchSize(s) / stepSeconds,
                    (endNs - startNs) / 1e6,
                    (loadedNs - startNs) / 1e6,
                    (communicator.totalNs() - commStartNs) / 1e6,
                    result.gradientNorm()));
                globalStep++;
                taken++;
            }
        }
        graph.getConfiguration().setEpochCount(epochs);
        step.verifyReplicasIdentical();
        return taken;
    }

    /** The step engine (parameters, optimiser state, completed steps). */
    public ReplicaStep step()
    {
        return step;
    }

    public ComputationGraph graph()
    {
        return graph;
    }
}
