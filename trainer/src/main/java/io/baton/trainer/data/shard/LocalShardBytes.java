package io.baton.trainer.data.shard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A shard file on local disk, read in place. */
final class LocalShardBytes implements ShardBytes
{
    private final Path file;
    private final FileChannel channel;

    LocalShardBytes(final Path file) throws IOException
    {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.READ);
    }

    @Override
    public long size() throws IOException
    {
        return channel.size();
    }

    @Override
    public byte[] read(final long position, final int length) throws IOException
    {
        return readFully(channel, position, length, file.toString());
    }

    @Override
    public String name()
    {
        return file.toString();
    }

    @Override
    public void close() throws IOException
    {
        channel.close();
    }

    /** Exactly {@code length} bytes of {@code channel} from {@code position}. */
    static byte[] readFully(final FileChannel channel, final long position, final int length, final String name)
        throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(length);
        long at = position;
        while (buffer.hasRemaining())
        {
            final int n = channel.read(buffer, at);
            if (n < 0)
            {
                throw new IOException("unexpected end of file at " + at + ", wanted " + length + " bytes from "
                    + position + " of " + name);
            }
            at += n;
        }
        return buffer.array();
    }
}
