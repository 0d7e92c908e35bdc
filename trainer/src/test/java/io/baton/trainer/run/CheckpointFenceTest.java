package io.baton.trainer.run;

import io.baton.common.checkpoint.AsyncCheckpointWriter;
import io.baton.common.checkpoint.Checkpoint;
import io.baton.common.checkpoint.CheckpointMetadata;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.RetentionPolicy;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.data.PartialBatchPolicy;
import io.baton.trainer.data.synthetic.PatternBatchSource;
import io.baton.trainer.data.synthetic.PatternImages;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.optim.LargeBatchSgd;
import io.baton.trainer.optim.ParamLayout;
import io.baton.trainer.optim.SgdSettings;
import io.baton.trainer.schedule.DecayKind;
import io.baton.trainer.schedule.LrSchedule;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The training loop with a deferred checkpoint snapshot fenced at {@link TrainingHooks#beforeUpdate}: a real replica
 * (small ResNet, SyncBatchNorm, one rank) checkpoints after every step through an {@link AsyncCheckpointWriter} on
 * a local directory. Each copy is held back until the training thread is parked in the fence (or 30 s), the latest
 * point the fence allows, so any write of the state before the fence would land in the checkpoint. Every checkpoint
 * must equal the state recorded when it was submitted, float for float, for both update paths.
 */
class CheckpointFenceTest
{
    private static final int SAMPLES = 32;
    private static final int BATCH = 8;
    private static final int EPOCHS = 2;
    private static final long SEED = 5;

    @TempDir
    Path tmp;

    @BeforeAll
    static void configure()
    {
        NativeRuntime.configure();
    }

    @Test
    void shouldCheckpointExactlyTheStateOfTheSubmitWithBatonsOptimiser() throws Exception
    {
        trainAndCompare(true);
    }

    @Test
    void shouldCheckpointExactlyTheStateOfTheSubmitWithDl4jsUpdater() throws Exception
    {
        trainAndCompare(false);
    }

    private void trainAndCompare(final boolean batonOptimiser) throws Exception
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(16, 16, 3).numClasses(4).seed(SEED)
            .build();
        final ComputationGraph graph = ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()),
            new Nesterovs(0.02, 0.9));
        final LargeBatchSgd optimizer = batonOptimiser
            ? new LargeBatchSgd(ParamLayout.of(graph), SgdSettings.momentum(0.9, false)) : null;
        try (TimedCommunicator communicator = new TimedCommunicator(new SingleRankCommunicator());
             PatternBatchSource source = new PatternBatchSource(new PatternImages(SEED, 4, 16, 16), SAMPLES, SEED);
             CheckpointStore store = CheckpointStore.open(tmp.toUri().toString(), new Configuration(),
                 RetentionPolicy.keepLast(100)))
        {
            SyncBatchNorm.bind(graph, communicator);
            final TrainingLoop trainer = new TrainingLoop(graph, communicator, source,
                new GlobalBatchSampler(SAMPLES, BATCH, 1, SEED, PartialBatchPolicy.DROP),
                new LrSchedule(0.02, BATCH, BATCH, 0, 0.1, DecayKind.STEP, new int[] {1}, 0.1, EPOCHS), EPOCHS, 0,
                optimizer, m -> { });
            final FencedHooks hooks = new FencedHooks(graph, optimizer, store);
            try (hooks)
            {
                trainer.train(0, hooks);
                hooks.writer.flush();
            }

            final long steps = (long) EPOCHS * (SAMPLES / BATCH);
            assertEquals(steps, hooks.expected.size());
            for (final Map.Entry<Long, Map<String, float[]>> entry : hooks.expected.entrySet())
            {
                final Checkpoint checkpoint = store.open(entry.getKey());
                for (final Map.Entry<String, float[]> part : entry.getValue().entrySet())
                {
                    assertArrayEquals(part.getValue(), floats(checkpoint.readPart(part.getKey())),
                        part.getKey() + " of checkpoint " + entry.getKey());
                }
            }
            assertEquals(steps - 1, hooks.fences, "one fence per update after a checkpoint");
            assertFalse(Arrays.equals(hooks.expected.get(1L).get(ReplicaState.PARAMS),
                hooks.expected.get(steps).get(ReplicaState.PARAMS)), "training changed the parameters");
        }
    }

    /** Checkpoints after every step with a deferred snapshot, held back until the training thread is in the fence. */
    private static final class FencedHooks implements TrainingHooks, AutoCloseable
    {
        private final ComputationGraph graph;
        private final LargeBatchSgd optimizer;
        private final ReplicaState state;
        private final AsyncCheckpointWriter writer;
        private final Map<Long, Map<String, float[]>> expected = new LinkedHashMap<>();
        private final Thread trainingThread = Thread.currentThread();
        private long fences;

        FencedHooks(final ComputationGraph graph, final LargeBatchSgd optimizer, final CheckpointStore store)
        {
            this.graph = graph;
            this.optimizer = optimizer;
            this.state = new ReplicaState(graph, optimizer);
            this.writer = new AsyncCheckpointWriter(store, java.time.Duration.ofMinutes(1));
        }

        @Override
        public void afterStep(final long completedSteps, final int nextEpoch, final boolean epochEnd)
        {
            expected.put(completedSteps, stateNow());
            final AsyncCheckpointWriter.Snapshot copy = state.deferredSnapshot();
            try
            {
                writer.submitDeferred(CheckpointMetadata.of(completedSteps, nextEpoch, 1, "fence-test", "test"), () ->
                {
                    awaitFence();
                    return copy.take();
                });
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }

        @Override
        public void beforeUpdate(final long globalStep)
        {
            try
            {
                writer.awaitSnapshot();
                if (expected.containsKey(globalStep))
                {
                    fences++;
                }
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException(ex);
            }
        }

        /**
         * Until the training thread is parked in the fence, or in the flush after the last step (30 s at most: a
         * missing fence then shows as a changed state in the checkpoint).
         */
        private void awaitFence()
        {
            final long deadlineNs = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadlineNs && !parkedInFence())
            {
                LockSupport.parkNanos(200_000);
            }
        }

        private boolean parkedInFence()
        {
            final Thread.State s = trainingThread.getState();
            return (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING)
                && Arrays.stream(trainingThread.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitSnapshot")
                || f.getMethodName().equals("flush"));
        }

        private Map<String, float[]> stateNow()
        {
            final Map<String, float[]> now = new LinkedHashMap<>();
            now.put(ReplicaState.PARAMS, graph.params().toFloatVector());
            if (optimizer != null)
            {
                now.put(ReplicaState.MOMENTUM, optimizer.momentumBuffer().toFloatVector());
            }
            final INDArray updater = graph.getUpdater().getStateViewArray();
            if (updater != null && updater.length() > 0)
            {
                now.put(ReplicaState.UPDATER, updater.toFloatVector());
            }
            return now;
        }

        @Override
        public void close() throws IOException
        {
            writer.close();
        }
    }

    private static float[] floats(final byte[] littleEndian)
    {
        final float[] out = new float[littleEndian.length / Float.BYTES];
        ByteBuffer.wrap(littleEndian).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}
