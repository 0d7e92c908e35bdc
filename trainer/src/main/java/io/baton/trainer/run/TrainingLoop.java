package io.baton.trainer.run;

import io.baton.common.collective.ReduceOp;
import io.baton.trainer.data.BatchSource;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.data.Lookahead;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.replica.NonFiniteStepException;
import io.baton.trainer.replica.SynchronousStep;
import io.baton.trainer.replica.StepResult;
import io.baton.trainer.schedule.LrSchedule;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * The training loop of one replica: for every epoch and step, load this replica's slice of the global batch, set the
 * scheduled learning rate, take one synchronous step, and report global metrics. Every replica runs the same loop
 * in lock step (each step is a sequence of collectives).
 *
 * <p>Threading: runs on the calling thread, which must be the only user of the graph and the communicator.
 */
public final class TrainingLoop
{
    private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

    private final ComputationGraph graph;
    private final TimedCommunicator communicator;
    private final BatchSource source;
    private final GlobalBatchSampler sampler;
    private final LrSchedule schedule;
    private final int epochs;
    private final SynchronousStep step;
    private final Consumer<StepMetrics> listener;
    private double hugeActivation = 1e6;
    private TimedCommunicator bnGroup;
    /** {@link #rejectedMessages()} as of the last step's metrics (0 at first: the connect's refusals count too). */
    private long rejectedReported;

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
    public TrainingLoop(
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
        this.step = new SynchronousStep(graph, communicator, checksumEverySteps, optimizer);
    }

    /**
     * Time in collectives so far: the communicator's, the SyncBatchNorm group communicator's if there is one, and
     * waits for an overlapped gradient all-reduce.
     */
    private long commNs()
    {
        return communicator.totalNs() + (bnGroup == null ? 0 : bnGroup.totalNs()) + step.overlapWaitNs();
    }

    /**
     * Messages refused so far by this replica's communicators (the replica's, the SyncBatchNorm group's and the
     * overlapped all-reduce's): strangers' handshakes and publications, dropped without effect.
     */
    private long rejectedMessages()
    {
        return communicator.rejectedMessages() + (bnGroup == null ? 0 : bnGroup.rejectedMessages())
            + step.overlapRejectedMessages();
    }

    /**
     * The communicator the graph's SyncBatchNorm layers are bound to when their groups are smaller than the world
     * (null: none, they use the replica's); its time counts as communication.
     */
    public TrainingLoop bnGroupCommunicator(final TimedCommunicator group)
    {
        this.bnGroup = group;
        return this;
    }

    /** Makes every replica start from rank 0's parameters and updater state (a collective). */
    public void synchronizeInitialState()
    {
        step.broadcastInitialState();
    }

    /**
     * Trains from the start of the given epoch to the end.
     *
     * @return the number of steps taken.
     */
    public long train(final int startEpoch)
    {
        final TrainOutcome outcome = train((long) startEpoch * sampler.stepsPerEpoch(), TrainingHooks.NONE);
        if (outcome.kind() == TrainOutcome.Kind.NON_FINITE)
        {
            throw new IllegalStateException("non-finite step " + outcome.nextStep() + ": " + outcome.diagnosis());
        }
        return outcome.stepsTaken();
    }

    /**
     * Trains from global step {@code startStep} (mid-epoch allowed: epoch {@code startStep / stepsPerEpoch}, the
     * next global batch of its order) to the end or until the hooks stop it. A step whose all-reduced gradient or
     * global loss is non-finite ends the loop on every rank with a {@link ActivationProbe} diagnosis of that batch.
     */
    public TrainOutcome train(final long startStep, final TrainingHooks hooks)
    {
        final int rank = communicator.rank();
        final long stepsPerEpoch = sampler.stepsPerEpoch();
        long globalStep = startStep;
        long taken = 0;
        for (int epoch = (int) (startStep / stepsPerEpoch); epoch < epochs; epoch++)
        {
            final GlobalBatchSampler.EpochOrder order = sampler.epoch(epoch);
            graph.getConfiguration().setEpochCount(epoch);
            final Lookahead lookahead = new Lookahead(source, order, epoch, rank);
            for (int s = (int) (globalStep - (long) epoch * stepsPerEpoch); s < order.steps(); s++)
            {
                if (hooks.stopBefore(globalStep))
                {
                    return new TrainOutcome(TrainOutcome.Kind.STOPPED, globalStep, taken, "");
                }
                final long startNs = System.nanoTime();
                final int[] ids = order.slice(s, rank);
                final BatchSource.Batch batch = source.load(ids, epoch, true);
                lookahead.loaded(s);
                hooks.beforeStep(globalStep, batch);
                final long loadedNs = System.nanoTime();
                final double lr = schedule.lr(globalStep, stepsPerEpoch) * hooks.lrFactor(globalStep);
                final long commStartNs = commNs();
                final StepResult result;
                final long thisStep = globalStep;
                try
                {
                    result = step.step(batch.features(), batch.labels(), order.batchSize(s), lr,
                        () -> hooks.beforeUpdate(thisStep));
                }
                catch (final NonFiniteStepException ex)
                {
                    return nonFinite(globalStep, taken, batch, "gradient sum " + ex.gradientSum());
                }
                // One small all-reduce for the global loss and batch top-1; a rank that could not count sends -1,
                // which makes the sum negative (every rank has the same graph, so all count or none does). It also
                // sums the messages the replicas refused since the last step's metrics (counted, not acted on).
                final long rejectedNow = rejectedMessages();
                final long rejected = Math.max(0, rejectedNow - rejectedReported);
                rejectedReported = rejectedNow;
                final double[] sums = {result.localLoss() * ids.length, ids.length, result.localCorrect(), rejected};
                communicator.allReduceSmall(sums, ReduceOp.SUM);
                final double loss = sums[0] / sums[1];
                final double top1 = sums[2] < 0 ? Double.NaN : sums[2] / sums[1];
                if (!Double.isFinite(loss))
                {
                    return nonFinite(globalStep, taken, batch, "global loss " + loss);
                }
                final long endNs = System.nanoTime();
                final double stepSeconds = (endNs - startNs) / 1e9;
                listener.accept(new StepMetrics(
                    globalStep,
                    epoch,
                    s,
                    order.steps(),
                    lr,
                    loss,
                    top1,
                    order.batchSize(s),
                    order.batchSize(s) / stepSeconds,
                    (endNs - startNs) / 1e6,
                    (loadedNs - startNs) / 1e6,
                    (commNs() - commStartNs) / 1e6,
                    result.gradientNorm(),
                    rejected,
                    (long) sums[3]));
                globalStep++;
                taken++;
                final boolean epochEnd = s + 1 == order.steps();
                hooks.afterStep(globalStep, epochEnd ? epoch + 1 : epoch, epochEnd);
            }
        }
        graph.getConfiguration().setEpochCount(epochs);
        step.verifyReplicasIdentical();
        return new TrainOutcome(TrainOutcome.Kind.COMPLETED, globalStep, taken, "");
    }

    private TrainOutcome nonFinite(final long globalStep, final long taken, final BatchSource.Batch batch,
        final String what)
    {
        final ActivationProbe.Diagnosis diagnosis = ActivationProbe.probe(graph, communicator, batch.features(),
            hugeActivation);
        final String text = "step " + globalStep + " was non-finite (" + what + "); " + diagnosis.describe();
        LOG.error(text);
        return new TrainOutcome(TrainOutcome.Kind.NON_FINITE, globalStep, taken, text);
    }

    /** Magnitude above which the diagnosis of a non-finite step calls an activation huge (default 1e6). */
    public TrainingLoop hugeActivation(final double limit)
    {
        this.hugeActivation = limit;
        return this;
    }

    public GlobalBatchSampler sampler()
    {
        return sampler;
    }

    /** The step engine (parameters, optimiser state, completed steps). */
    public SynchronousStep step()
    {
        return step;
    }

    public ComputationGraph graph()
    {
        return graph;
    }
}
