package io.baton.common.store;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputStreamsTest
{
    /**
     * What HDFS's DFSOutputStream does after its pipeline failed (LastExceptionInStreamer): flush throws the stored
     * exception, and close throws the very same instance again.
     */
    private static final class RethrowsOnClose extends OutputStream
    {
        final IOException stored = new IOException("Failed to replace a bad datanode on the existing pipeline");
        boolean closed;

        @Override
        public void write(final int b)
        {
        }

        @Override
        public void flush() throws IOException
        {
            throw stored;
        }

        @Override
        public void close() throws IOException
        {
            closed = true;
            throw stored;
        }
    }

    @Test
    void shouldThrowTheWritesOwnExceptionWhenCloseRethrowsTheSameInstance()
    {
        final RethrowsOnClose out = new RethrowsOnClose();
        final IOException ex = assertThrows(IOException.class, () -> OutputStreams.writeAndClose(out, o ->
        {
            o.write(1);
            o.flush();
        }));
        assertSame(out.stored, ex);
        assertEquals(0, ex.getSuppressed().length);
        assertTrue(out.closed);
    }

    @Test
    void tryWithResourcesTurnsTheSameStreamIntoSelfSuppression()
    {
        // The control: the failure the helper exists for.
        final RethrowsOnClose out = new RethrowsOnClose();
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () ->
        {
            try (OutputStream o = out)
            {
                o.flush();
            }
        });
        assertEquals("Self-suppression not permitted", ex.getMessage());
    }

    @Test
    void shouldKeepADifferentCloseFailureAsSuppressedAndThrowACloseFailureAlone()
    {
        final IOException first = new IOException("write");
        final IOException onClose = new IOException("close");
        final OutputStream failingClose = new OutputStream()
        {
            @Override
            public void write(final int b)
            {
            }

            @Override
            public void close() throws IOException
            {
                throw onClose;
            }
        };
        final IOException ex = assertThrows(IOException.class, () -> OutputStreams.writeAndClose(failingClose, o ->
        {
            throw first;
        }));
        assertSame(first, ex);
        assertSame(onClose, ex.getSuppressed()[0]);
        assertSame(onClose, assertThrows(IOException.class, () -> OutputStreams.writeAndClose(failingClose,
            o -> o.write(1))));
    }

    @Test
    void shouldWriteAndCloseNormally() throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStreams.writeAndClose(out, o -> o.write(new byte[] {1, 2}));
        assertArrayEquals(new byte[] {1, 2}, out.toByteArray());
    }
}
