package io.baton.trainer.data.shard;

import io.baton.common.store.HadoopConf;
import io.baton.trainer.data.image.SampleSource;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Random access by sample id to one split of a prepared data set ({@code baton prepare}'s output) on any Hadoop file
 * system. Shards on {@code file://} are read in place; shards elsewhere (e.g. {@code hdfs://}) are checked against the
 * manifest's CRC32C on first use and read by position through a {@link ShardBlockCache}, which keeps at most
 * {@code data.cache-size} bytes of their blocks on local disk and deletes them when the last data set using it
 * closes. Labels come from the manifest alone
 * (ids are ordered by class), so {@link #label(long)} never touches a shard.
 *
 * <p>Thread-safe: shards are opened lazily under a per-shard lock; reads are positional.
 */
public final class ShardedDataset implements SampleSource, AutoCloseable
{
    /** {@code data.cache-size}'s default: local disk for remote shards' blocks, per process. */
    public static final long DEFAULT_CACHE_BYTES = 8L << 30;

    private final URI root;
    private final String split;
    private final Manifest manifest;
    private final Manifest.Split info;
    private final FileSystem fs;
    private final ShardBlockCache cache;
    private final long[] firstIds;
    private final long[] classEnds;
    private final ShardReader[] readers;
    private final Object[] locks;
    private volatile boolean closed;
    private boolean cacheClosed;

    private ShardedDataset(
        final URI root,
        final String split,
        final Manifest manifest,
        final FileSystem fs,
        final ShardBlockCache cache)
    {
        this.root = root;
        this.split = split;
        this.manifest = manifest;
        this.info = manifest.splits().get(split);
        this.fs = fs;
        this.cache = cache;
        final List<Manifest.ShardEntry> shards = info.shards();
        this.firstIds = new long[shards.size()];
        for (int i = 0; i < firstIds.length; i++)
        {
            firstIds[i] = shards.get(i).firstSampleId();
        }
        this.classEnds = new long[info.perClass().size()];
        long end = 0;
        for (int c = 0; c < classEnds.length; c++)
        {
            end += info.perClass().get(c);
            classEnds[c] = end;
        }
        this.readers = new ShardReader[shards.size()];
        this.locks = new Object[shards.size()];
        Arrays.setAll(locks, i -> new Object());
    }

    /** {@link #open(URI, String, Path, long)} with a cache of {@link #DEFAULT_CACHE_BYTES}. */
    public static ShardedDataset open(final URI root, final String split, final Path cacheDir) throws IOException
    {
        return open(root, split, cacheDir, DEFAULT_CACHE_BYTES);
    }

    /**
     * Opens {@code split} of the prepared data set at {@code root}; {@code cacheDir} holds at most
     * {@code cacheBytes} of remote shards' blocks (unused for {@code file://}). Fails naming the path when the
     * manifest is missing (incomplete output).
     */
    public static ShardedDataset open(final URI root, final String split, final Path cacheDir, final long cacheBytes)
        throws IOException
    {
        return open(root, split, cacheDir, cacheBytes, ShardBlockCache.DEFAULT_BLOCK_BYTES);
    }

    /** {@link #open(URI, String, Path, long)} with blocks of {@code blockBytes} (tests use small ones). */
    static ShardedDataset open(final URI root, final String split, final Path cacheDir, final long cacheBytes,
        final int blockBytes) throws IOException
    {
        final FileSystem fs = FileSystem.newInstance(root, HadoopConf.fresh());
        try
        {
            final org.apache.hadoop.fs.Path manifestPath =
                new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(root), Manifest.FILE_NAME);
            if (!fs.exists(manifestPath))
            {
                // An ImageNet-layout image tree (train/<class>/...) is the input of prepare, not its output.
                final boolean imageTree = fs.isDirectory(new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(
                    root), split));
                final String hint = imageTree ? "; it holds a " + split + "/ folder, so if it is an image tree, "
                    + "prepare it first: baton prepare " + manifestPath.getParent() + " OUTPUT" : "";
                throw new FileNotFoundException("no " + Manifest.FILE_NAME + " at " + manifestPath
                    + ": not a (complete) baton prepare output" + hint);
            }
            final byte[] json;
            try (FSDataInputStream in = fs.open(manifestPath))
            {
                json = in.readAllBytes();
            }
            final Manifest manifest = Manifest.fromJson(json, manifestPath.toString());
            if (!manifest.splits().containsKey(split))
            {
                throw new IllegalArgumentException("split '" + split + "' is not in " + manifestPath + "; it has "
                    + manifest.splits().keySet());
            }
            final ShardBlockCache cache = "file".equals(fs.getScheme()) ? null
                : ShardBlockCache.acquire(cacheDir, cacheBytes, blockBytes);
            if (cache != null)
            {
                cache.addData(cacheKey(root) + "/" + split,
                    manifest.splits().get(split).shards().stream().mapToLong(Manifest.ShardEntry::bytes).sum());
            }
            return new ShardedDataset(root, split, manifest, fs, cache);
        }
        catch (final IOException | RuntimeException ex)
        {
            fs.close();
            throw ex;
        }
    }

    /** Samples in the split; ids are 0 .. size-1. */
    @Override
    public long size()
    {
        return info.count();
    }

    /** Class wnids; a label is an index into this list. */
    public List<String> classes()
    {
        return manifest.classes();
    }

    public Manifest manifest()
    {
        return manifest;
    }

    public String split()
    {
        return split;
    }

    /** The label of sample {@code sampleId}, from the manifest alone. */
    @Override
    public int label(final long sampleId)
    {
        checkId(sampleId);
        int c = Arrays.binarySearch(classEnds, sampleId);
        c = c >= 0 ? c + 1 : -c - 1;
        while (classEnds[c] <= sampleId)
        {
            c++;
        }
        return c;
    }

    /** The encoded image of sample {@code sampleId}. */
    @Override
    public byte[] bytes(final long sampleId) throws IOException
    {
        return record(sampleId).bytes();
    }

    /** The whole record of sample {@code sampleId}; fetches its shard first if it is remote and not cached. */
    public ShardRecord record(final long sampleId) throws IOException
    {
        checkId(sampleId);
        int s = Arrays.binarySearch(firstIds, sampleId);
        s = s >= 0 ? s : -s - 2;
        final ShardRecord record = reader(s).read((int)(sampleId - firstIds[s]), firstIds[s]);
        if (record.label() != label(sampleId))
        {
            throw new IOException("sample " + sampleId + " of " + split + " has label " + record.label()
                + " in shard " + info.shards().get(s).file() + " but " + label(sampleId) + " in the manifest");
        }
        return record;
    }

    private ShardReader reader(final int shard) throws IOException
    {
        synchronized (locks[shard])
        {
            if (closed)
            {
                throw new IllegalStateException("dataset closed: " + root);
            }
            if (readers[shard] == null)
            {
                final Manifest.ShardEntry entry = info.shards().get(shard);
                final org.apache.hadoop.fs.Path remote =
                    new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(root), entry.file());
                final ShardReader reader;
                if (cache == null)
                {
                    reader = ShardReader.open(Path.of(fs.makeQualified(remote).toUri()));
                }
                else
                {
                    final RemoteShardBytes bytes = new RemoteShardBytes(cache, fs, remote,
                        cacheKey(root) + "-" + entry.file().replace('/', '_'), entry.bytes());
                    try
                    {
                        cache.verify(bytes, entry);
                    }
                    catch (final IOException | RuntimeException ex)
                    {
                        bytes.close();
                        throw ex;
                    }
                    reader = ShardReader.open(bytes);
                }
                if (reader.count() != entry.count())
                {
                    reader.close();
                    throw new IOException("shard " + reader.file() + " has " + reader.count()
                        + " records, manifest says " + entry.count());
                }
                // A version 1 shard read in place has no record checksums and was never checked by the cache:
                // its whole-file CRC32C is checked once here instead, so damage cannot train silently.
                if (!reader.recordCrcs() && cache == null
                    && ShardFormat.crc32c(Path.of(fs.makeQualified(remote).toUri())) != entry.crc32cValue())
                {
                    reader.close();
                    throw new IOException("corrupt shard " + reader.file() + ": its crc32c is not " + entry.crc32c()
                        + " as in the manifest (a damaged version 1 shard; baton prepare it again)");
                }
                readers[shard] = reader;
            }
            return readers[shard];
        }
    }

    private void checkId(final long sampleId)
    {
        if (sampleId < 0 || sampleId >= info.count())
        {
            throw new IndexOutOfBoundsException("sample id " + sampleId + " not in [0, " + info.count() + ") of split "
                + split + " at " + root);
        }
    }

    /** The shard cache of a remote data set, or null for {@code file://}. */
    ShardBlockCache cache()
    {
        return cache;
    }

    /** Closes the open shards, the shard cache (the last user deletes its files), then the file system. Idempotent. */
    @Override
    public void close() throws IOException
    {
        IOException first = null;
        for (int i = 0; i < readers.length; i++)
        {
            synchronized (locks[i])
            {
                closed = true;
                if (readers[i] != null)
                {
                    try
                    {
                        readers[i].close();
                    }
                    catch (final IOException ex)
                    {
                        first = first == null ? ex : first;
                    }
                    readers[i] = null;
                }
            }
        }
        try
        {
            if (cache != null && !cacheClosed)
            {
                cacheClosed = true;
                cache.close();
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            first = first == null ? new IOException(ex.getMessage(), ex) : first;
        }
        try
        {
            fs.close();
        }
        catch (final IOException ex)
        {
            first = first == null ? ex : first;
        }
        if (first != null)
        {
            throw first;
        }
    }

    /** Cache subdirectory of a data set: the first 16 hex digits of SHA-256 of its root URI. */
    static String cacheKey(final URI root)
    {
        try
        {
            final byte[] digest = MessageDigest.getInstance("SHA-256")
                .digest(root.normalize().toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }
}
