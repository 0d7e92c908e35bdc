package io.baton.common.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One named part of a checkpoint to write: a byte array, a buffer, or a callback that streams the bytes (so a large
 * state is never held twice in memory). A part is written once; its source must not change until the write is over
 * (for an {@link AsyncCheckpointWriter}: until the next submit returns, or until flush/close).
 */
public final class CheckpointPart
{
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}");
    private static final int CHUNK_BYTES = 1 << 20;

    private final String name;
    private final PartWriter writer;

    private CheckpointPart(final String name, final PartWriter writer)
    {
        if (!NAME.matcher(Objects.requireNonNull(name, "name")).matches())
        {
            throw new IllegalArgumentException(
                "part name must be 1-64 of [A-Za-z0-9_.-] starting with a letter or digit, name=" + name);
        }
        this.name = name;
        this.writer = Objects.requireNonNull(writer, "writer");
    }

    /** Streams a part's bytes to the checkpoint; called once, on the thread that does the write. */
    @FunctionalInterface
    public interface PartWriter
    {
        void writeTo(OutputStream out) throws IOException;
    }

    /** A part holding {@code bytes}; the array is not copied. */
    public static CheckpointPart ofBytes(final String name, final byte[] bytes)
    {
        Objects.requireNonNull(bytes, "bytes");
        return new CheckpointPart(name, out -> out.write(bytes));
    }

    /**
     * A part holding the bytes between position and limit of {@code buffer} (heap or direct); neither the buffer nor
     * its position is changed.
     */
    public static CheckpointPart ofBuffer(final String name, final ByteBuffer buffer)
    {
        final ByteBuffer view = buffer.duplicate();
        return new CheckpointPart(name, out -> writeBuffer(view.duplicate(), out));
    }

    /** A part whose bytes {@code writer} streams when the checkpoint is written. */
    public static CheckpointPart streamed(final String name, final PartWriter writer)
    {
        return new CheckpointPart(name, writer);
    }

    public String name()
    {
        return name;
    }

    void writeTo(final OutputStream out) throws IOException
    {
        writer.writeTo(out);
    }

    static boolean isValidName(final String name)
    {
        return NAME.matcher(name).matches();
    }

    private static void writeBuffer(final ByteBuffer view, final OutputStream out) throws IOException
    {
        if (view.hasArray())
        {
            out.write(view.array(), view.arrayOffset() + view.position(), view.remaining());
            return;
        }
        final byte[] chunk = new byte[Math.min(CHUNK_BYTES, Math.max(1, view.remaining()))];
        while (view.hasRemaining())
        {
            final int n = Math.min(chunk.length, view.remaining());
            view.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    @Override
    public String toString()
    {
        return "CheckpointPart[" + name + "]";
    }
}
