package io.baton.coordinator.prepare;

import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.SampleTranscoder;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardFormat;
import io.baton.trainer.data.shard.ShardWriter;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;

import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one {@link ShardTask} inside a Spark task: reads each input file (or tar member, by position), validates
 * (strict decode) and optionally resizes it, appends it to the shard, and reports unreadable files as skipped. The
 * shard is written under a temporary name and renamed when complete, so a retried or killed task never leaves a half
 * shard under the final name. Counts files and input bytes into two accumulators for the driver's progress line.
 */
public final class ShardTaskRunner implements Function<ShardTask, ShardResult>
{
    private final PrepareOptions options;
    private final int numClasses;
    private final LongAccumulator filesDone;
    private final LongAccumulator bytesDone;

    public ShardTaskRunner(
        final PrepareOptions options,
        final int numClasses,
        final LongAccumulator filesDone,
        final LongAccumulator bytesDone)
    {
        this.options = options;
        this.numClasses = numClasses;
        this.filesDone = filesDone;
        this.bytesDone = bytesDone;
    }

    @Override
    public ShardResult call(final ShardTask task) throws IOException
    {
        final Configuration conf = new Configuration();
        final FileSystem in = FileSystem.get(options.input(), conf);
        final FileSystem out = FileSystem.get(options.output(), conf);
        final SampleTranscoder transcoder = new SampleTranscoder(new ImageDecoder(JpegBackend.DEFAULT),
            options.resizeShorter(), options.jpegQuality());
        final String file = task.split() + "/" + ShardFormat.fileName(task.split(), task.index());
        final Path target = new Path(new Path(options.output()), file);
        final Path root = new Path(options.input());
        final TaskContext context = TaskContext.get();
        final Path temp = new Path(target.getParent(), "_" + target.getName() + ".tmp-"
            + (context == null ? 0 : context.taskAttemptId()));
        final long[] perClass = new long[numClasses];
        final List<Manifest.SkippedFile> skipped = new ArrayList<>();
        long inputBytes = 0;
        final long crc;
        final long bytes;
        final int count;
        try (ShardWriter writer = new ShardWriter(out.create(temp, true)); Archives archives = new Archives(in, root))
        {
            for (final InputFile input : task.files())
            {
                byte[] original = new byte[0];
                try
                {
                    original = input.archive() == null ? read(in, new Path(root, input.path()))
                        : archives.read(input);
                    inputBytes += original.length;
                    final byte[] stored = transcoder.transcode(original);
                    writer.append(input.label(), options.keepPaths() ? input.path() : "", stored);
                    perClass[input.label()]++;
                }
                catch (final IOException ex)
                {
                    skipped.add(new Manifest.SkippedFile(input.path(), String.valueOf(ex.getMessage())));
                }
                filesDone.add(1);
                bytesDone.add(original.length);
            }
            crc = writer.finish();
            bytes = writer.bytesWritten();
            count = writer.count();
        }
        if (out.exists(target))
        {
            out.delete(target, false);
        }
        if (!out.rename(temp, target))
        {
            throw new IOException("could not rename " + temp + " to " + target);
        }
        return new ShardResult(task.split(), task.index(), file, count, bytes, crc, perClass, skipped, inputBytes);
    }

    private static byte[] read(final FileSystem fs, final Path path) throws IOException
    {
        try (FSDataInputStream stream = fs.open(path))
        {
            return stream.readAllBytes();
        }
    }

    /** The tar files of a task's members, each opened once and read by position. */
    private static final class Archives implements AutoCloseable
    {
        private final FileSystem fs;
        private final Path root;
        private final Map<String, FSDataInputStream> open = new HashMap<>();

        Archives(final FileSystem fs, final Path root)
        {
            this.fs = fs;
            this.root = root;
        }

        byte[] read(final InputFile member) throws IOException
        {
            FSDataInputStream stream = open.get(member.archive());
            if (stream == null)
            {
                stream = fs.open(new Path(root, member.archive()));
                open.put(member.archive(), stream);
            }
            final byte[] bytes = new byte[Math.toIntExact(member.length())];
            try
            {
                stream.readFully(member.offset(), bytes);
            }
            catch (final EOFException ex)
            {
                throw new EOFException("truncated: " + member.archive() + " ends before the " + member.length()
                    + " bytes at offset " + member.offset());
            }
            return bytes;
        }

        @Override
        public void close() throws IOException
        {
            for (final FSDataInputStream stream : open.values())
            {
                stream.close();
            }
        }
    }

}
