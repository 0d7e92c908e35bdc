package io.baton.common.checkpoint;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

/** Shared helpers: deterministic part contents, metadata, and damaging files behind the store's back. */
final class CheckpointTestSupport
{
    static final String CONFIG_HASH = "0f1e2d3c";

    private CheckpointTestSupport()
    {
    }

    static byte[] bytes(final long seed, final int length)
    {
        final byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }

    static CheckpointMetadata metadata(final long step)
    {
        return new CheckpointMetadata(step, step / 10, 2, CONFIG_HASH, "test", 1_700_000_000_000L + step,
            java.util.Map.of("sampler.position", Long.toString(step * 64)));
    }

    /** Two parts whose contents depend on the step: {@code params} (larger) and {@code updater}. */
    static List<CheckpointPart> parts(final long step)
    {
        return List.of(
            CheckpointPart.ofBytes("params", bytes(step, 300_000)),
            CheckpointPart.ofBytes("updater", bytes(step + 1_000_000, 70_000)));
    }

    static Path partFile(final CheckpointStore store, final long step, final String part)
    {
        return new Path(new Path(store.dir(), CheckpointNames.published(step)), CheckpointNames.partFile(part));
    }

    /** Rewrites a file with transformed contents, through the file system (so HDFS block checksums stay valid). */
    static void rewrite(final FileSystem fs, final Path file, final UnaryOperator<byte[]> change) throws IOException
    {
        final byte[] original;
        try (FSDataInputStream in = fs.open(file))
        {
            original = in.readAllBytes();
        }
        final byte[] changed = change.apply(original);
        try (FSDataOutputStream out = fs.create(file, true))
        {
            out.write(changed);
        }
    }

    static byte[] flipByte(final byte[] data, final int index)
    {
        final byte[] copy = data.clone();
        copy[index] ^= 0x40;
        return copy;
    }

    static byte[] truncate(final byte[] data, final int length)
    {
        return java.util.Arrays.copyOf(data, length);
    }
}
