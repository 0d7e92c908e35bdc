package io.baton.trainer.data.shard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Local disk cache of remote shards' blocks, bounded by {@code data.cache-size}: a record read takes the fixed-size
 * blocks that cover it, each from a local block file when cached. What a miss does depends on whether the cache holds
 * the data it serves (the shards of every data set open on it, {@link #addData}):
 * <ul>
 *   <li>it does: the block is fetched whole from the remote shard with one positioned read (the read-ahead for the
 *       records next to it) and kept, evicting the least recently used blocks;</li>
 *   <li>it does not: only the missing byte range is read remotely (one positioned read of the record) and nothing is
 *       stored. Under the sampler's random order a fetched block would mostly be evicted before its neighbours are
 *       asked for, so each record would cost ~block/record times its bytes (measured: 12 MB/s against ~100-200 MB/s
 *       with no cache, docs/BENCHMARKS.md). The checksum pass keeps the first blocks that fit, which then serve
 *       their records.</li>
 * </ul>
 * The block files never hold more than {@link #capacityBytes()} bytes. A cache smaller than one block keeps nothing on
 * disk and reads each record's bytes remotely.
 *
 * <p>One cache per cache directory in a JVM, shared by all the data sets it opens (the replicas of a local master,
 * the train and val splits), so the bound is per process: {@link #acquire} counts users and the last
 * {@link #close()} deletes the cache's own folder ({@code <cache dir>/cache-<pid>-<random>}). A JVM that is killed
 * leaves its folder behind.
 *
 * <p>Integrity: a remote shard is read whole once per process when first opened ({@link #verify}), its CRC32C checked
 * against the manifest, its blocks offered to the cache on the way; later misses re-read blocks by position.
 *
 * <p>Thread-safe: the block table and eviction are guarded by this object; remote reads run outside the lock.
 */
final class ShardBlockCache implements AutoCloseable
{
    /** Bytes per block, the read-ahead of a miss. */
    static final int DEFAULT_BLOCK_BYTES = 4 << 20;

    private static final Map<Path, ShardBlockCache> SHARED = new HashMap<>();

    private final Path parent;
    private final Path directory;
    private final long capacityBytes;
    private final int blockBytes;
    private final LinkedHashMap<String, Long> blocks = new LinkedHashMap<>(64, 0.75f, true);
    private final Map<String, Boolean> verified = new HashMap<>();
    private final Map<String, Long> dataBytes = new HashMap<>();
    private long servedBytes;
    private long requestedBytes;
    private long remoteReadBytes;
    private long usedBytes;
    private long highWaterBytes;
    private long hits;
    private long misses;
    private int users;

    private ShardBlockCache(final Path parent, final long capacityBytes, final int blockBytes)
    {
        this.parent = parent;
        this.directory = parent.resolve("cache-" + ManagementFactory.getRuntimeMXBean().getPid() + "-"
            + UUID.randomUUID().toString().substring(0, 8));
        this.capacityBytes = capacityBytes;
        this.blockBytes = blockBytes;
    }

    /**
     * The JVM's cache in {@code parent}, made on first use; each call must be matched by a {@link #close()}. A
     * cache already open in {@code parent} keeps its capacity and block size.
     */
    static ShardBlockCache acquire(final Path parent, final long capacityBytes, final int blockBytes)
    {
        if (capacityBytes < 0 || blockBytes <= 0)
        {
            throw new IllegalArgumentException("cache of " + capacityBytes + " bytes in blocks of " + blockBytes
                + " bytes: both must be >= 0 and the block > 0");
        }
        final Path key = parent.toAbsolutePath().normalize();
        synchronized (SHARED)
        {
            final ShardBlockCache cache = SHARED.computeIfAbsent(key,
                k -> new ShardBlockCache(k, capacityBytes, blockBytes));
            synchronized (cache)
            {
                cache.users++;
            }
            return cache;
        }
    }

    /**
     * Counts a data set's shards ({@code bytes} in all, under a name unique to the data set and split) in the data this
     * cache serves; a second call with the same name counts nothing. Every data set opened on the cache calls it.
     */
    synchronized void addData(final String name, final long bytes)
    {
        if (dataBytes.putIfAbsent(name, bytes) == null)
        {
            servedBytes += bytes;
        }
    }

    /** Whether the cache can hold all the data it serves: misses fetch and keep whole blocks only then. */
    synchronized boolean holdsItsData()
    {
        return servedBytes <= capacityBytes;
    }

    /** Exactly {@code length} bytes of {@code shard} from {@code position}. */
    byte[] read(final RemoteShardBytes shard, final long position, final int length) throws IOException
    {
        final byte[] out = new byte[length];
        synchronized (this)
        {
            requestedBytes += length;
        }
        if (capacityBytes < blockBytes)
        {
            readRemote(shard, position, out);
            return out;
        }
        final boolean readAhead = holdsItsData();
        final long end = position + length;
        for (long block = position / blockBytes; block * blockBytes < end; block++)
        {
            final long blockStart = block * blockBytes;
            final int blockLength = (int)Math.min(blockBytes, shard.size() - blockStart);
            final long from = Math.max(position, blockStart);
            final long to = Math.min(end, blockStart + blockLength);
            final String name = shard.key() + "." + block;
            if (!readCached(name, from - blockStart, out, (int)(from - position), (int)(to - from)))
            {
                if (!readAhead)
                {
                    final byte[] part = new byte[(int)(to - from)];
                    readRemote(shard, from, part);
                    System.arraycopy(part, 0, out, (int)(from - position), part.length);
                    continue;
                }
                final byte[] data = new byte[blockLength];
                readRemote(shard, blockStart, data);
                System.arraycopy(data, (int)(from - blockStart), out, (int)(from - position), (int)(to - from));
                store(name, data, true);
            }
        }
        return out;
    }

    private void readRemote(final RemoteShardBytes shard, final long position, final byte[] into) throws IOException
    {
        shard.readRemote(position, into);
        synchronized (this)
        {
            remoteReadBytes += into.length;
        }
    }

    /**
     * Checks a remote shard once per process: streams it block by block, offering each block to the cache, and
     * compares its CRC32C with the manifest's.
     */
    void verify(final RemoteShardBytes shard, final Manifest.ShardEntry entry) throws IOException
    {
        synchronized (this)
        {
            if (verified.containsKey(shard.key()))
            {
                return;
            }
        }
        final CRC32C crc = new CRC32C();
        for (long start = 0, block = 0; start < entry.bytes(); start += blockBytes, block++)
        {
            final byte[] data = new byte[(int)Math.min(blockBytes, entry.bytes() - start)];
            shard.readRemote(start, data);
            crc.update(data);
            if (capacityBytes >= blockBytes)
            {
                // A cache that cannot hold its data keeps the first blocks that fit and evicts nothing for the
                // rest: writing every block only to evict it again cost the first pass a third of its speed.
                store(shard.key() + "." + block, data, holdsItsData());
            }
        }
        if (crc.getValue() != entry.crc32cValue())
        {
            throw new IOException("checksum mismatch reading " + shard.name() + ": expected crc32c " + entry.crc32c()
                + ", got " + Manifest.crcHex(crc.getValue()));
        }
        synchronized (this)
        {
            verified.put(shard.key(), Boolean.TRUE);
        }
    }

    private boolean readCached(final String name, final long offset, final byte[] out, final int at, final int length)
        throws IOException
    {
        synchronized (this)
        {
            if (blocks.get(name) == null)
            {
                misses++;
                return false;
            }
            hits++;
        }
        try (FileChannel channel = FileChannel.open(directory.resolve(name), StandardOpenOption.READ))
        {
            System.arraycopy(LocalShardBytes.readFully(channel, offset, length, name), 0, out, at, length);
            return true;
        }
        catch (final NoSuchFileException ex)
        {
            return false; // evicted between the lookup and the open
        }
    }

    /**
     * Keeps a block, evicting the least recently used ones first when {@code evict}, else only if it fits in the room
     * left; the bound holds at every moment.
     */
    private synchronized void store(final String name, final byte[] data, final boolean evict) throws IOException
    {
        if (blocks.containsKey(name) || data.length > capacityBytes || users == 0
            || !evict && usedBytes + data.length > capacityBytes)
        {
            return;
        }
        final Iterator<Map.Entry<String, Long>> oldest = blocks.entrySet().iterator();
        while (usedBytes + data.length > capacityBytes && oldest.hasNext())
        {
            final Map.Entry<String, Long> victim = oldest.next();
            Files.deleteIfExists(directory.resolve(victim.getKey()));
            usedBytes -= victim.getValue();
            oldest.remove();
        }
        Files.createDirectories(directory);
        final Path temp = directory.resolve(name + ".tmp");
        Files.write(temp, data);
        Files.move(temp, directory.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        blocks.put(name, (long)data.length);
        usedBytes += data.length;
        highWaterBytes = Math.max(highWaterBytes, usedBytes);
    }

    /** The most bytes its block files may hold. */
    long capacityBytes()
    {
        return capacityBytes;
    }

    /** Bytes its block files hold now. */
    synchronized long usedBytes()
    {
        return usedBytes;
    }

    /** The most bytes its block files have held at once. */
    synchronized long highWaterBytes()
    {
        return highWaterBytes;
    }

    /** Block reads served from local disk. */
    synchronized long hits()
    {
        return hits;
    }

    /** Bytes asked of {@link #read}. */
    synchronized long requestedBytes()
    {
        return requestedBytes;
    }

    /** Bytes {@link #read} fetched from the remote file system (the checksum pass not counted). */
    synchronized long remoteReadBytes()
    {
        return remoteReadBytes;
    }

    /** Block reads that went to the remote file system. */
    synchronized long misses()
    {
        return misses;
    }

    /** This cache's own folder (deleted when the last user closes). */
    Path directory()
    {
        return directory;
    }

    /** Ends one user's use; the last one deletes the cache's folder. Call once per {@link #acquire}. */
    @Override
    public void close() throws IOException
    {
        synchronized (SHARED)
        {
            synchronized (this)
            {
                if (users == 0 || --users > 0)
                {
                    return;
                }
                SHARED.remove(parent);
                blocks.clear();
                usedBytes = 0;
            }
        }
        if (Files.exists(directory))
        {
            try (Stream<Path> files = Files.walk(directory))
            {
                files.sorted(Comparator.reverseOrder()).forEach(ShardBlockCache::delete);
            }
        }
    }

    private static void delete(final Path path)
    {
        try
        {
            Files.deleteIfExists(path);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot delete " + path + " of the shard cache: " + ex.getMessage(), ex);
        }
    }
}
