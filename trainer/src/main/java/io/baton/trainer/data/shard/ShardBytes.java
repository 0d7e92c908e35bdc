package io.baton.trainer.data.shard;

import java.io.IOException;

/**
 * The bytes of one shard file, read by position: a local file, or a shard on a remote file system read through the
 * {@link ShardBlockCache}. Implementations are thread-safe (positional reads share no file position).
 */
interface ShardBytes extends AutoCloseable
{
    /** Length of the shard file in bytes. */
    long size() throws IOException;

    /** Reads exactly {@code length} bytes starting at {@code position}; fails at the end of the file. */
    byte[] read(long position, int length) throws IOException;

    /** Names the shard in errors. */
    String name();

    @Override
    void close() throws IOException;
}
