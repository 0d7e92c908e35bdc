package io.baton.common.store;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Appends a line to a small JSON-lines file on any Hadoop file system: with append where the store has it (local
 * disks, HDFS), else by writing the file again whole with the line added (S3A shows an object whole or not at all, so
 * readers see the old lines or the new ones, never half). For files of few lines with one writer (the holder of the
 * directory's lock); a torn last line left by a crash is dropped by the rewrite.
 *
 * <p>Threading: stateless; the caller serialises writers.
 */
public final class LineFiles
{
    private LineFiles()
    {
    }

    /** Appends {@code line} (which ends with a newline) to {@code file}, creating it. */
    public static void append(final FileSystem fs, final Path file, final String line) throws IOException
    {
        if (!StoreSemantics.appends(fs, file))
        {
            final String before = read(fs, file);
            final String prefix = before.isEmpty() || before.endsWith("\n") ? before
                : before.substring(0, before.lastIndexOf('\n') + 1);
            OutputStreams.writeAndClose(LocalWrites.create(fs, file),
                out -> out.write((prefix + line).getBytes(StandardCharsets.UTF_8)));
            return;
        }
        OutputStreams.writeAndClose(fs.exists(file) ? Appends.open(fs, file) : LocalWrites.createNew(fs, file), out ->
        {
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.hsync();
        });
    }

    private static String read(final FileSystem fs, final Path file) throws IOException
    {
        try (FSDataInputStream in = fs.open(file))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (final FileNotFoundException ex)
        {
            return "";
        }
    }
}
