package io.baton.trainer.run;

import io.baton.common.collective.AeronCommunicator;
import io.baton.common.collective.StageKey;
import io.baton.common.collective.CollectiveConfigs;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.Communicator;
import io.baton.common.collective.PeerEndpoint;
import io.baton.common.collective.ReduceOp;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.data.PartialBatchPolicy;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.replica.ThreadCommunicator;
import io.baton.trainer.schedule.DecayKind;
import io.baton.trainer.schedule.LrSchedule;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two replicas (threads, real Aeron communicators on loopback) train a small ResNet on learnable images. */
class TrainingLoopTest
{
    private static final StageKey KEY = StageKey.random();

    private static final int SAMPLES = 96;
    private static final int CLASSES = 4;
    private static final long SEED = 11;
    private static final int EPOCHS = 6;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    private record Outcome(List<StepMetrics> metrics, Evaluator.Result eval, float[] params)
    {
    }

    @Test
    void twoReplicasLowerTheLossStayIdenticalAndEvaluateEverySampleOnce() throws Exception
    {
        final CollectiveSettings settings = CollectiveSettings.builder()
            .operationDeadlineNs(TimeUnit.SECONDS.toNanos(30))
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(30))
            .termLength(4 * 1024 * 1024)
            .build();
        final List<PeerEndpoint> peers = List.of(
            PeerEndpoint.local(settings, "127.0.0.1", CollectiveConfigs.freeUdpPort("127.0.0.1")),
            PeerEndpoint.local(settings, "127.0.0.1", CollectiveConfigs.freeUdpPort("127.0.0.1")));
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final List<Future<Outcome>> futures = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++)
            {
                final int r = rank;
                futures.add(pool.submit(() -> replica(new AeronCommunicator(settings, r, peers, "trainer-test", 1,
                    KEY))));
            }
            final Outcome rank0 = futures.get(0).get(5, TimeUnit.MINUTES);
            final Outcome rank1 = futures.get(1).get(5, TimeUnit.MINUTES);

            assertArrayEquals(rank0.params(), rank1.params(), "replicas must end bit-identical");
            assertEquals(rank0.metrics().size(), rank1.metrics().size());
            for (int i = 0; i < rank0.metrics().size(); i++)
            {
                assertEquals(rank0.metrics().get(i).loss(), rank1.metrics().get(i).loss(),
                    "every rank reports the same global loss");
                assertEquals(rank0.metrics().get(i).top1(), rank1.metrics().get(i).top1(),
                    "every rank reports the same global batch top-1");
            }
            final List<StepMetrics> metrics = rank0.metrics();
            assertEquals(EPOCHS * (SAMPLES / 16), metrics.size(), EPOCHS + " epochs of " + SAMPLES / 16 + " steps");
            final double first = metrics.subList(0, 6).stream().mapToDouble(StepMetrics::loss).average().orElseThrow();
            final double last = metrics.subList(metrics.size() - 6, metrics.size()).stream()
                .mapToDouble(StepMetrics::loss).average().orElseThrow();
            assertTrue(last < 0.2 * first, "loss should fall: first epoch " + first + ", last epoch " + last);
            for (final StepMetrics m : metrics)
            {
                final double correct = m.top1() * m.images();
                assertTrue(m.top1() >= 0 && m.top1() <= 1 && Math.abs(correct - Math.rint(correct)) < 1e-9,
                    "batch top-1 of step " + m.step() + " is a count over " + m.images() + " images: " + m.top1());
            }
            final double firstTop1 = metrics.subList(0, 6).stream().mapToDouble(StepMetrics::top1).average()
                .orElseThrow();
            final double lastTop1 = metrics.subList(metrics.size() - 6, metrics.size()).stream()
                .mapToDouble(StepMetrics::top1).average().orElseThrow();
            assertTrue(lastTop1 > 0.9 && lastTop1 > firstTop1 + 0.3,
                "batch top-1 should rise: first epoch " + firstTop1 + ", last epoch " + lastTop1);

            assertEquals(SAMPLES, rank0.eval().samples(), "every sample counted exactly once");
            assertEquals(rank0.eval(), rank1.eval());
            assertTrue(rank0.eval().top1() > 0.9, "top-1 after training " + rank0.eval() + " first loss " + first + " last " + last);
            assertEquals(1.0, rank0.eval().top5(), "top-5 of 4 classes is always right");
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static Outcome replica(final Communicator aeron)
    {
        try (TimedCommunicator communicator = new TimedCommunicator(aeron);
             PatternBatchSource source = new PatternBatchSource(new PatternImages(SEED, CLASSES, 16, 16), SAMPLES, SEED))
        {
            final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(CLASSES)
                .seed(SEED).build();
            final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()),
                new Nesterovs(0.02, 0.9));
            SyncBatchNorm.bind(graph, communicator);
            final GlobalBatchSampler sampler = new GlobalBatchSampler(SAMPLES, 16, 2, SEED, PartialBatchPolicy.DROP);
            final LrSchedule schedule = new LrSchedule(0.02, 16, 16, 1, 0.1, DecayKind.STEP, new int[] {4}, 0.1, EPOCHS);
            final List<StepMetrics> metrics = new ArrayList<>();
            final TrainingLoop trainer = new TrainingLoop(graph, communicator, source, sampler, schedule, EPOCHS, 5, null,
                metrics::add);
            trainer.synchronizeInitialState();
            trainer.train(0);
            final Evaluator.Result eval = Evaluator.evaluate(graph, communicator, source, 32);
            assertTrue(metrics.stream().allMatch(m -> m.commMs() > 0 && m.stepMs() >= m.commMs()),
                "communication time is measured and part of the step");
            return new Outcome(metrics, eval, graph.params().toFloatVector());
        }
    }

    @Test
    void messagesTheReplicasRefusedAreInEachStepsMetrics() throws Exception
    {
        final List<ThreadCommunicator> world = ThreadCommunicator.world(2, 60_000);
        final ExecutorService pool = Executors.newFixedThreadPool(2);
        try
        {
            final List<Future<List<StepMetrics>>> futures = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++)
            {
                // rank r's communicator refuses r + 1 strangers' messages per step, and rank 1 refused 5 at connect
                final Refusing refusing = new Refusing(world.get(rank), rank + 1, rank == 1 ? 5 : 0);
                futures.add(pool.submit(() -> shortRun(refusing)));
            }
            final List<StepMetrics> rank0 = futures.get(0).get(5, TimeUnit.MINUTES);
            final List<StepMetrics> rank1 = futures.get(1).get(5, TimeUnit.MINUTES);
            assertEquals(2, rank0.size());
            for (int i = 0; i < rank0.size(); i++)
            {
                final long atConnect = i == 0 ? 5 : 0;
                assertEquals(1, rank0.get(i).rejectedMessages(), "rank 0's own, step " + i);
                assertEquals(2 + atConnect, rank1.get(i).rejectedMessages(), "rank 1's own, step " + i);
                assertEquals(3 + atConnect, rank0.get(i).jobRejectedMessages(), "summed over the replicas");
                assertEquals(rank0.get(i).jobRejectedMessages(), rank1.get(i).jobRejectedMessages());
                assertTrue(rank0.get(i).toJson().endsWith(",\"rejected_messages\":" + (3 + atConnect) + "}"),
                    rank0.get(i).toJson());
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static List<StepMetrics> shortRun(final Communicator refusing)
    {
        try (TimedCommunicator communicator = new TimedCommunicator(refusing);
             PatternBatchSource source = new PatternBatchSource(new PatternImages(SEED, CLASSES, 8, 8), 32, SEED))
        {
            final ModelOptions options = ModelOptions.builder("resnet20").input(8, 8, 3).numClasses(CLASSES)
                .seed(SEED).build();
            final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()),
                new Nesterovs(0.02, 0.9));
            SyncBatchNorm.bind(graph, communicator);
            final GlobalBatchSampler sampler = new GlobalBatchSampler(32, 16, 2, SEED, PartialBatchPolicy.DROP);
            final LrSchedule schedule = new LrSchedule(0.02, 16, 16, 0, 0.1, DecayKind.CONSTANT, new int[0], 0.1, 1);
            final List<StepMetrics> metrics = new ArrayList<>();
            final TrainingLoop trainer = new TrainingLoop(graph, communicator, source, sampler, schedule, 1, 0, null,
                metrics::add);
            trainer.synchronizeInitialState();
            trainer.train(0);
            return metrics;
        }
    }

    /**
     * Forwards every call; its {@link #rejectedMessages()} reads as if {@code perStep} more strangers' messages had
     * been refused since it was last read (the training loop reads it once per step), plus {@code atConnect} before.
     */
    private static final class Refusing implements Communicator
    {
        private final Communicator delegate;
        private final long perStep;
        private long refused;

        Refusing(final Communicator delegate, final long perStep, final long atConnect)
        {
            this.delegate = delegate;
            this.perStep = perStep;
            this.refused = atConnect;
        }

        @Override
        public long rejectedMessages()
        {
            refused += perStep;
            return refused;
        }

        @Override
        public int rank()
        {
            return delegate.rank();
        }

        @Override
        public int worldSize()
        {
            return delegate.worldSize();
        }

        @Override
        public void allReduce(final float[] data, final int offset, final int length, final ReduceOp op)
        {
            delegate.allReduce(data, offset, length, op);
        }

        @Override
        public void allReduce(final long address, final long floatCount, final ReduceOp op)
        {
            delegate.allReduce(address, floatCount, op);
        }

        @Override
        public void allReduce(final ByteBuffer directFloats, final ReduceOp op)
        {
            delegate.allReduce(directFloats, op);
        }

        @Override
        public void allReduceSmall(final double[] data, final ReduceOp op)
        {
            delegate.allReduceSmall(data, op);
        }

        @Override
        public void broadcast(final float[] data, final int offset, final int length, final int root)
        {
            delegate.broadcast(data, offset, length, root);
        }

        @Override
        public void broadcast(final long address, final long floatCount, final int root)
        {
            delegate.broadcast(address, floatCount, root);
        }

        @Override
        public byte[] broadcastBytes(final byte[] payload, final int root)
        {
            return delegate.broadcastBytes(payload, root);
        }

        @Override
        public byte[][] allGather(final byte[] payload)
        {
            return delegate.allGather(payload);
        }

        @Override
        public void barrier()
        {
            delegate.barrier();
        }

        @Override
        public void close()
        {
            delegate.close();
        }
    }

    @Test
    void evaluationCountsEverySampleOnceWhateverTheWorldSize()
    {
        final int[] covered = new int[SAMPLES + 1];
        for (final int worldSize : new int[] {1, 2, 3, 5, 7})
        {
            Arrays.fill(covered, 0);
            for (int rank = 0; rank < worldSize; rank++)
            {
                final int from = (int) ((long) rank * (SAMPLES + 1) / worldSize);
                final int to = (int) ((long) (rank + 1) * (SAMPLES + 1) / worldSize);
                for (int i = from; i < to; i++)
                {
                    covered[i]++;
                }
            }
            for (final int c : covered)
            {
                assertEquals(1, c, "worldSize " + worldSize);
            }
        }
    }
}
