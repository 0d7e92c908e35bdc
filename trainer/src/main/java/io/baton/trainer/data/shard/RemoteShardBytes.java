package io.baton.trainer.data.shard;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.EOFException;
import java.io.IOException;

/**
 * A shard on a remote file system (e.g. {@code hdfs://}), read by position through a {@link ShardBlockCache}: a read
 * takes the cache's blocks that cover it, each fetched whole from the remote file on a miss (the read-ahead).
 */
final class RemoteShardBytes implements ShardBytes
{
    private final ShardBlockCache cache;
    private final Path remote;
    private final String key;
    private final long size;
    private final FSDataInputStream stream;

    /**
     * @param key  unique name of the shard among all the cache holds (its data set's key and file name).
     * @param size the shard's length in bytes (the manifest's).
     */
    RemoteShardBytes(final ShardBlockCache cache, final FileSystem fs, final Path remote, final String key,
        final long size) throws IOException
    {
        this.cache = cache;
        this.remote = remote;
        this.key = key;
        this.size = size;
        this.stream = fs.open(remote);
    }

    @Override
    public long size()
    {
        return size;
    }

    @Override
    public byte[] read(final long position, final int length) throws IOException
    {
        if (position < 0 || position + length > size)
        {
            throw new EOFException("read of " + length + " bytes at " + position + " is outside " + remote + " ("
                + size + " bytes)");
        }
        return cache.read(this, position, length);
    }

    /** Reads {@code into.length} bytes at {@code position} straight from the remote file (a positioned read). */
    void readRemote(final long position, final byte[] into) throws IOException
    {
        try
        {
            stream.readFully(position, into);
        }
        catch (final EOFException ex)
        {
            throw new EOFException("unexpected end of " + remote + " reading " + into.length + " bytes at " + position
                + " (the manifest says " + size + " bytes)");
        }
    }

    String key()
    {
        return key;
    }

    @Override
    public String name()
    {
        return remote.toString();
    }

    @Override
    public void close() throws IOException
    {
        stream.close();
    }
}
