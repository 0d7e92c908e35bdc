package io.baton.common.checkpoint.bench;

import io.baton.common.checkpoint.AsyncCheckpointWriter;
import io.baton.common.checkpoint.CheckpointMetadata;
import io.baton.common.checkpoint.CheckpointPart;
import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.checkpoint.RetentionPolicy;
import org.apache.hadoop.conf.Configuration;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): ResNet-152's full training state (parameters + momentum, 2 x 60,344,232 floats) of random
 * bytes checkpointed to a local directory through {@link AsyncCheckpointWriter}, in both snapshot modes, interleaved
 * checkpoint by checkpoint in one run:
 * <ul>
 *   <li>{@code sync}: {@link AsyncCheckpointWriter#submit} copies the state on the caller's thread (the old way);</li>
 *   <li>{@code deferred}: {@link AsyncCheckpointWriter#submitDeferred} returns at once, the writer thread copies
 *   while the caller runs a step-like workload, then the caller fences ({@link AsyncCheckpointWriter#awaitSnapshot})
 *   before it changes the state, as the training loop does before its update.</li>
 * </ul>
 * The step workload is a memory-touching compute loop on the calling thread over a 64 MB array for a given time (the
 * next step's forward and backward; 0 ms is the worst case). Per checkpoint: stall = submit time + fence wait, the
 * time training is blocked. Write = submit until published with no step workload (the unloaded write time, stall
 * included), per mode; stall / write uses it for every step length. Then the state is written synchronously
 * ({@code CheckpointStore.write} on the caller) for throughput.
 * Usage: {@code CheckpointBench <dir> [checkpoints=5] [floatsPerTensor=60344232] [stepMs=0,300,1000]}.
 */
public final class CheckpointBench
{
    private static final int WORK_FLOATS = 16 << 20;

    private CheckpointBench()
    {
    }

    private enum Mode
    {
        SYNC, DEFERRED
    }

    /** One checkpoint's timings, nanoseconds. */
    private record Sample(long submitNs, long fenceNs, long writeNs)
    {
        long stallNs()
        {
            return submitNs + fenceNs;
        }
    }

    public static void main(final String[] args) throws Exception
    {
        final String dir = args[0];
        final int checkpoints = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        final int floats = args.length > 2 ? Integer.parseInt(args[2]) : 60_344_232;
        final int[] stepsMs = Arrays.stream((args.length > 3 ? args[3] : "0,300,1000").split(","))
            .mapToInt(Integer::parseInt).toArray();
        final int tensorBytes = floats * Float.BYTES;
        final long stateBytes = 2L * tensorBytes;

        // The live state, off-heap like ND4J buffers, and the one reusable host snapshot.
        final ByteBuffer params = randomDirect(tensorBytes, 1);
        final ByteBuffer momentum = randomDirect(tensorBytes, 2);
        final ByteBuffer paramsHost = ByteBuffer.allocateDirect(tensorBytes);
        final ByteBuffer momentumHost = ByteBuffer.allocateDirect(tensorBytes);
        final AsyncCheckpointWriter.Snapshot snapshot = () ->
        {
            paramsHost.clear().put(params.duplicate().clear()).flip();
            momentumHost.clear().put(momentum.duplicate().clear()).flip();
            return List.of(CheckpointPart.ofBuffer("params", paramsHost), CheckpointPart.ofBuffer("momentum",
                momentumHost));
        };
        final float[] work = new float[WORK_FLOATS];
        Arrays.fill(work, 1f);

        final Sample[][][] samples = new Sample[Mode.values().length][stepsMs.length][checkpoints];
        final long[] blockingNs = new long[checkpoints];
        long step = 0;
        try (CheckpointStore store = CheckpointStore.open(dir, new Configuration(), RetentionPolicy.keepLast(2));
             AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMinutes(5)))
        {
            for (final Mode mode : Mode.values())
            {
                final Sample warm = checkpoint(writer, mode, ++step, snapshot, params, momentum, work, 0);
                System.out.printf(Locale.ROOT, "warm-up %s: stall %.1f ms, write %.1f ms%n", mode,
                    warm.stallNs() / 1e6, warm.writeNs() / 1e6);
            }
            for (int s = 0; s < stepsMs.length; s++)
            {
                for (int i = 0; i < checkpoints; i++)
                {
                    for (final Mode mode : Mode.values())
                    {
                        final Sample sample = checkpoint(writer, mode, ++step, snapshot, params, momentum, work,
                            stepsMs[s]);
                        samples[mode.ordinal()][s][i] = sample;
                        System.out.printf(Locale.ROOT, "%s step %d ms, checkpoint %d: submit %.1f ms, fence %.1f ms, "
                                + "stall %.1f ms, submit to published %.1f ms%n", mode, stepsMs[s], i + 1,
                            sample.submitNs() / 1e6, sample.fenceNs() / 1e6, sample.stallNs() / 1e6,
                            sample.writeNs() / 1e6);
                    }
                }
            }
            for (int i = 0; i < checkpoints; i++)
            {
                final long startNs = System.nanoTime();
                store.write(CheckpointMetadata.of(++step, 0, 2, "bench", "bench"), List.of(
                    CheckpointPart.ofBuffer("params", params), CheckpointPart.ofBuffer("momentum", momentum)));
                blockingNs[i] = System.nanoTime() - startNs;
                System.out.printf(Locale.ROOT, "blocking write %d: %.1f ms (%.0f MB/s)%n", i + 1, blockingNs[i] / 1e6,
                    stateBytes / 1e6 / (blockingNs[i] / 1e9));
            }
        }

        System.out.printf(Locale.ROOT, "RESULT state %d bytes, %d checkpoints per row (medians); write = submit to "
            + "published with a 0 ms step%n", stateBytes, checkpoints);
        System.out.println("RESULT | mode | step ms | submit ms | fence wait ms | stall ms | write ms | stall/write |");
        for (final Mode mode : Mode.values())
        {
            final int zero = indexOf(stepsMs, 0);
            final double writeMs = zero >= 0 ? median(samples[mode.ordinal()][zero], Sample::writeNs) / 1e6
                : Double.NaN;
            for (int s = 0; s < stepsMs.length; s++)
            {
                final Sample[] row = samples[mode.ordinal()][s];
                final double stallMs = median(row, Sample::stallNs) / 1e6;
                System.out.printf(Locale.ROOT, "RESULT | %s | %d | %.1f | %.1f | %.1f | %.0f | %.1f %% |%n",
                    mode.name().toLowerCase(Locale.ROOT), stepsMs[s], median(row, Sample::submitNs) / 1e6,
                    median(row, Sample::fenceNs) / 1e6, stallMs, writeMs, 100 * stallMs / writeMs);
            }
        }
        final double blocking = median(blockingNs) / 1e6;
        System.out.printf(Locale.ROOT, "RESULT median blocking write %.1f ms (%.0f MB/s)%n", blocking,
            stateBytes / 1e3 / blocking);
    }

    /**
     * One checkpoint as the training loop takes it: the update changes the state, submit, the next step's forward and
     * backward (a workload of {@code stepMs} that does not touch the state), the fence, the next update. Flushed
     * before returning, so checkpoints do not overlap.
     */
    private static Sample checkpoint(final AsyncCheckpointWriter writer, final Mode mode, final long step,
        final AsyncCheckpointWriter.Snapshot snapshot, final ByteBuffer params, final ByteBuffer momentum,
        final float[] work, final int stepMs) throws Exception
    {
        mutate(params, step);
        final CheckpointMetadata metadata = CheckpointMetadata.of(step, 0, 2, "bench", "bench");
        final long startNs = System.nanoTime();
        if (mode == Mode.SYNC)
        {
            writer.submit(metadata, snapshot);
        }
        else
        {
            writer.submitDeferred(metadata, snapshot);
        }
        final long submittedNs = System.nanoTime();
        compute(work, stepMs);
        final long fenceStartNs = System.nanoTime();
        writer.awaitSnapshot();
        final long fencedNs = System.nanoTime();
        mutate(momentum, step);
        writer.flush();
        final long publishedNs = System.nanoTime();
        return new Sample(submittedNs - startNs, fencedNs - fenceStartNs, publishedNs - startNs);
    }

    /** A step-like workload on this thread: streams over a 64 MB array, multiply-add per element, for stepMs. */
    private static void compute(final float[] work, final int stepMs)
    {
        if (stepMs <= 0)
        {
            return;
        }
        final long deadlineNs = System.nanoTime() + stepMs * 1_000_000L;
        final int chunk = 1 << 18;
        int from = 0;
        while (System.nanoTime() < deadlineNs)
        {
            final int to = Math.min(work.length, from + chunk);
            for (int i = from; i < to; i++)
            {
                work[i] = work[i] * 0.999f + 0.001f;
            }
            from = to == work.length ? 0 : to;
        }
    }

    private static ByteBuffer randomDirect(final int bytes, final long seed)
    {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        final SplittableRandom random = new SplittableRandom(seed);
        while (buffer.remaining() >= Long.BYTES)
        {
            buffer.putLong(random.nextLong());
        }
        buffer.clear();
        return buffer;
    }

    /** A training step's update changes the state between checkpoints. */
    private static void mutate(final ByteBuffer state, final long step)
    {
        for (int i = 0; i < state.capacity(); i += 4096)
        {
            state.put(i, (byte) (state.get(i) + step));
        }
    }

    private static int indexOf(final int[] values, final int value)
    {
        for (int i = 0; i < values.length; i++)
        {
            if (values[i] == value)
            {
                return i;
            }
        }
        return -1;
    }

    private static double median(final Sample[] samples, final java.util.function.ToLongFunction<Sample> field)
    {
        return median(Arrays.stream(samples).mapToLong(field).toArray());
    }

    private static double median(final long[] values)
    {
        final long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
