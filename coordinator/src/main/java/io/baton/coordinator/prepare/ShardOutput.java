package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.SampleTranscoder;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardFormat;
import io.baton.trainer.data.shard.ShardWriter;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One shard being written inside a Spark task: each image is validated (strict decode), optionally resized and
 * appended, or reported as skipped with the reason; the shard is written under a temporary name and renamed into
 * place by {@link #finish()}, so a retried or killed task never leaves a half shard under the final name (a shard
 * closed without {@link #finish()} is deleted).
 *
 * <p>Threading: one task thread.
 */
final class ShardOutput implements AutoCloseable
{
    /** The bytes of one input image, read when the shard takes it. */
    @FunctionalInterface
    interface ImageBytes
    {
        byte[] read() throws IOException;
    }

    private final PrepareOptions options;
    private final String split;
    private final int index;
    private final String file;
    private final FileSystem out;
    private final Path target;
    private final Path temp;
    private final SampleTranscoder transcoder;
    private final ShardWriter writer;
    private final long[] perClass;
    private final List<Manifest.SkippedFile> skipped = new ArrayList<>();
    private long inputBytes;
    private boolean finished;

    ShardOutput(final PrepareOptions options, final String split, final int index, final int numClasses)
        throws IOException
    {
        this.options = options;
        this.split = split;
        this.index = index;
        this.file = split + "/" + ShardFormat.fileName(split, index);
        this.out = FileSystem.get(options.output(), HadoopConf.fresh());
        this.target = new Path(new Path(options.output()), file);
        final TaskContext context = TaskContext.get();
        this.temp = new Path(target.getParent(), "_" + target.getName() + ".tmp-"
            + (context == null ? 0 : context.taskAttemptId()));
        this.transcoder = new SampleTranscoder(new ImageDecoder(JpegBackend.DEFAULT), options.resizeShorter(),
            options.jpegQuality());
        this.perClass = new long[numClasses];
        this.writer = new ShardWriter(out.create(temp, true));
    }

    /**
     * Appends one image, or records it as skipped when it cannot be read or decoded.
     *
     * @return the input bytes read (0 when it could not be read).
     */
    long add(final String path, final int label, final ImageBytes image) throws IOException
    {
        final byte[] original;
        try
        {
            original = image.read();
        }
        catch (final IOException ex)
        {
            skipped.add(new Manifest.SkippedFile(path, String.valueOf(ex.getMessage())));
            return 0;
        }
        inputBytes += original.length;
        final byte[] stored;
        try
        {
            stored = transcoder.transcode(original);
        }
        catch (final IOException ex)
        {
            skipped.add(new Manifest.SkippedFile(path, String.valueOf(ex.getMessage())));
            return original.length;
        }
        writer.append(label, options.keepPaths() ? path : "", stored);
        perClass[label]++;
        return original.length;
    }

    /** Completes the shard and renames it into place. */
    ShardResult finish() throws IOException
    {
        final long crc = writer.finish();
        final long bytes = writer.bytesWritten();
        final int count = writer.count();
        writer.close();
        if (out.exists(target))
        {
            out.delete(target, false);
        }
        if (!out.rename(temp, target))
        {
            throw new IOException("could not rename " + temp + " to " + target);
        }
        finished = true;
        return new ShardResult(split, index, file, count, bytes, crc, perClass, skipped, inputBytes);
    }

    /** Deletes the temporary file of a shard that was not finished. Idempotent. */
    @Override
    public void close() throws IOException
    {
        if (!finished)
        {
            finished = true;
            try
            {
                writer.close();
            }
            finally
            {
                out.delete(temp, false);
            }
        }
    }
}
