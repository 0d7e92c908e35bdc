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
import java.util.SplittableRandom;

/**
 * Benchmark (not a test): ResNet-152's full training state (parameters + momentum, 2 x 60,344,232 floats) of random
 * bytes checkpointed to a local directory through {@link AsyncCheckpointWriter}. Per checkpoint it measures the
 * training stall (the time {@code submit} blocks the caller: the host copy from the off-heap state, as ND4J holds it,
 * into one reused off-heap snapshot) and the total write time (submit to published, hsync'ed), then a synchronous write for
 * comparison. Usage: {@code CheckpointBench <dir> [checkpoints=5] [floatsPerTensor=60344232]}.
 */
public final class CheckpointBench
{
    private CheckpointBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String dir = args[0];
        final int checkpoints = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        final int floats = args.length > 2 ? Integer.parseInt(args[2]) : 60_344_232;
        final int tensorBytes = floats * Float.BYTES;
        final long stateBytes = 2L * tensorBytes;

        // The live state, off-heap like ND4J buffers, and the one reusable host snapshot.
        final ByteBuffer params = randomDirect(tensorBytes, 1);
        final ByteBuffer momentum = randomDirect(tensorBytes, 2);
        final ByteBuffer paramsHost = ByteBuffer.allocateDirect(tensorBytes);
        final ByteBuffer momentumHost = ByteBuffer.allocateDirect(tensorBytes);

        final long[] stallNs = new long[checkpoints];
        final long[] writeNs = new long[checkpoints];
        final long[] syncNs = new long[checkpoints];
        try (CheckpointStore store = CheckpointStore.open(dir, new Configuration(), RetentionPolicy.keepLast(2));
             AsyncCheckpointWriter writer = new AsyncCheckpointWriter(store, Duration.ofMinutes(5)))
        {
            for (int i = 0; i < checkpoints; i++)
            {
                mutate(params, i);
                final long startNs = System.nanoTime();
                writer.submit(CheckpointMetadata.of(i + 1, 0, 2, "bench", "bench"), () ->
                {
                    paramsHost.clear().put(params.duplicate().clear()).flip();
                    momentumHost.clear().put(momentum.duplicate().clear()).flip();
                    return List.of(CheckpointPart.ofBuffer("params", paramsHost),
                        CheckpointPart.ofBuffer("momentum", momentumHost));
                });
                stallNs[i] = System.nanoTime() - startNs;
                writer.flush();
                writeNs[i] = System.nanoTime() - startNs;
                System.out.printf("async checkpoint %d: stall %.1f ms, write %.1f ms (%.0f MB/s)%n", i + 1,
                    stallNs[i] / 1e6, writeNs[i] / 1e6, stateBytes / 1e6 / (writeNs[i] / 1e9));
            }
            for (int i = 0; i < checkpoints; i++)
            {
                final long startNs = System.nanoTime();
                store.write(CheckpointMetadata.of(1000 + i, 0, 2, "bench", "bench"), List.of(
                    CheckpointPart.ofBuffer("params", params), CheckpointPart.ofBuffer("momentum", momentum)));
                syncNs[i] = System.nanoTime() - startNs;
                System.out.printf("sync checkpoint %d: write %.1f ms (%.0f MB/s)%n", i + 1, syncNs[i] / 1e6,
                    stateBytes / 1e6 / (syncNs[i] / 1e9));
            }
        }
        final double stall = median(stallNs) / 1e6;
        final double write = median(writeNs) / 1e6;
        final double sync = median(syncNs) / 1e6;
        System.out.printf("RESULT state %d bytes, %d checkpoints: median stall %.1f ms, median async write %.1f ms "
                + "(%.0f MB/s), stall/write %.1f%%, median sync write %.1f ms (%.0f MB/s)%n",
            stateBytes, checkpoints, stall, write, stateBytes / 1e3 / write, 100 * stall / write, sync,
            stateBytes / 1e3 / sync);
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

    /** A training step changes the state between checkpoints. */
    private static void mutate(final ByteBuffer state, final int step)
    {
        for (int i = 0; i < state.capacity(); i += 4096)
        {
            state.put(i, (byte) (state.get(i) + step));
        }
    }

    private static double median(final long[] values)
    {
        final long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
