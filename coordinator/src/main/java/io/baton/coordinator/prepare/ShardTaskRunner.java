package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.util.LongAccumulator;

import java.io.EOFException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs one {@link ShardTask} inside a Spark task: reads each input file (or tar member, by position) into a
 * {@link ShardOutput}, which validates, optionally resizes, appends or reports it as skipped, and renames the shard
 * into place when complete. Counts files and input bytes into two accumulators for the driver's progress line.
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
        final Configuration conf = HadoopConf.fresh();
        final FileSystem in = FileSystem.get(options.input(), conf);
        final Path root = new Path(options.input());
        try (ShardOutput shard = new ShardOutput(options, task.split(), task.index(), numClasses);
             Archives archives = new Archives(in, root))
        {
            for (final InputFile input : task.files())
            {
                final long read = shard.add(input.path(), input.label(), () -> input.archive() == null
                    ? read(in, root, input.path(), conf) : archives.read(input));
                filesDone.add(1);
                bytesDone.add(read);
            }
            return shard.finish();
        }
    }

    /**
     * The bytes of an input file: {@code path} relative to the input root, or an absolute URI on any Hadoop file
     * system (the image column of a table).
     */
    static byte[] read(final FileSystem root, final Path rootPath, final String path, final Configuration conf)
        throws IOException
    {
        final Path file = new Path(rootPath, path);
        final FileSystem fs = new Path(path).toUri().getScheme() != null ? file.getFileSystem(conf) : root;
        try (FSDataInputStream stream = fs.open(file))
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
