package io.baton.common.store;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes to an output stream and closes it, keeping the write's exception as the one thrown. Not try-with-resources:
 * HDFS's output stream remembers the exception that failed a write or an hsync and throws the same instance again
 * from {@code close()}, and try-with-resources then calls {@code e.addSuppressed(e)}, which throws
 * {@code IllegalArgumentException("Self-suppression not permitted")}: the I/O error that says what happened (a
 * NameNode in safe mode, a pipeline without a datanode) would reach the user as that meaningless line instead.
 *
 * <p>Stateless.
 */
public final class OutputStreams
{
    private OutputStreams()
    {
    }

    /** What is written to the stream before it is closed. */
    @FunctionalInterface
    public interface Body<S extends OutputStream>
    {
        void writeTo(S out) throws IOException;
    }

    /**
     * Runs {@code body} on {@code out}, then closes it. An exception of the body is thrown with the close's (if it is
     * another one) suppressed; otherwise the close's own exception is thrown.
     */
    public static <S extends OutputStream> void writeAndClose(final S out, final Body<S> body) throws IOException
    {
        try
        {
            body.writeTo(out);
        }
        catch (final IOException | RuntimeException | Error ex)
        {
            closeAfter(out, ex);
            throw ex;
        }
        out.close();
    }

    private static void closeAfter(final OutputStream out, final Throwable primary)
    {
        try
        {
            out.close();
        }
        catch (final IOException | RuntimeException ex)
        {
            if (ex != primary)
            {
                primary.addSuppressed(ex);
            }
        }
    }
}
