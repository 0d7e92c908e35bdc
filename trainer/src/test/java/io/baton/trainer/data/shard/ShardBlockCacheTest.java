package io.baton.trainer.data.shard;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prepared shards on a MiniDFSCluster read through the bounded block cache: reading the data twice over (far more
 * than the bound) never puts more than data.cache-size on local disk, returns the same records as the local files,
 * and leaves nothing behind when the data sets close; a damaged remote shard is refused by its checksum.
 */
class ShardBlockCacheTest
{
    private static final int SHARDS = 3;
    private static final int PER_SHARD = 30;
    private static final int BLOCK_BYTES = 8 << 10;
    private static final long CACHE_BYTES = 5L * BLOCK_BYTES;
    private static MiniDFSCluster cluster;
    private static FileSystem hdfs;
    private static Path dir;
    private static final List<byte[]> IMAGES = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception
    {
        final Path base = Path.of(System.getProperty("baton.test.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        dir = Files.createTempDirectory(base, "block-cache");
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("dfs").toString());
        conf.setInt("dfs.client.block.write.locateFollowingBlock.initial.delay.ms", 20);
        cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        cluster.waitActive();
        hdfs = cluster.getFileSystem();
        writeData(dir.resolve("data"));
        hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(dir.resolve("data").toUri()),
            new org.apache.hadoop.fs.Path("/data"));
    }

    @AfterAll
    static void stop()
    {
        if (cluster != null)
        {
            cluster.shutdown();
        }
    }

    /** Three shards of 30 records of 1-4 kB random bytes, two classes of 45, and their manifest. */
    private static void writeData(final Path root) throws IOException
    {
        Files.createDirectories(root.resolve("train"));
        final Random random = new Random(21);
        final List<Manifest.ShardEntry> entries = new ArrayList<>();
        for (int s = 0; s < SHARDS; s++)
        {
            final String file = "train/" + ShardFormat.fileName("train", s);
            final long crc;
            try (ShardWriter writer = new ShardWriter(Files.newOutputStream(root.resolve(file))))
            {
                for (int r = 0; r < PER_SHARD; r++)
                {
                    final byte[] image = new byte[1000 + random.nextInt(3000)];
                    random.nextBytes(image);
                    IMAGES.add(image);
                    final int id = s * PER_SHARD + r;
                    writer.append(id < 45 ? 0 : 1, "sample-" + id, image);
                }
                crc = writer.finish();
            }
            entries.add(new Manifest.ShardEntry(file, (long)s * PER_SHARD, PER_SHARD, Files.size(root.resolve(file)),
                Manifest.crcHex(crc)));
        }
        final Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, List.of("a", "b"),
            Manifest.indexOf(List.of("a", "b")), Map.of("train", new Manifest.Split(SHARDS * PER_SHARD,
            List.of(45L, 45L), "test", entries, List.of(), 0)), Map.of(), "now");
        Files.write(root.resolve(Manifest.FILE_NAME), manifest.toJson());
    }

    private static long bytesOnDisk(final Path folder) throws IOException
    {
        if (!Files.exists(folder))
        {
            return 0;
        }
        try (Stream<Path> files = Files.walk(folder))
        {
            long sum = 0;
            for (final Path file : files.filter(Files::isRegularFile).toList())
            {
                sum += Files.size(file);
            }
            return sum;
        }
    }

    private static URI remote(final String path)
    {
        return URI.create(hdfs.getUri() + path);
    }

    @Test
    void shouldKeepLocalDiskWithinTheBoundWhileReadingFarMoreThanItAndCleanUp() throws IOException
    {
        final long dataBytes = SHARDS * PER_SHARD == IMAGES.size() ? IMAGES.stream().mapToLong(b -> b.length).sum()
            : -1;
        assertTrue(dataBytes > 3 * CACHE_BYTES, "the data is several times the bound: " + dataBytes);
        final Path cacheDir = dir.resolve("cache-bound");
        final List<Long> order = new ArrayList<>();
        for (long id = 0; id < IMAGES.size(); id++)
        {
            order.add(id);
        }
        final Path folder;
        long readBytes = 0;
        long maxOnDisk = 0;
        try (ShardedDataset data = ShardedDataset.open(remote("/data"), "train", cacheDir, CACHE_BYTES, BLOCK_BYTES);
             ShardedDataset again = ShardedDataset.open(remote("/data"), "train", cacheDir, CACHE_BYTES, BLOCK_BYTES))
        {
            assertSame(data.cache(), again.cache(), "one cache per process and directory");
            folder = data.cache().directory();
            for (int pass = 0; pass < 2; pass++)
            {
                Collections.shuffle(order, new Random(pass));
                for (final long id : order)
                {
                    final ShardRecord record = (pass == 0 ? data : again).record(id);
                    assertArrayEquals(IMAGES.get((int)id), record.bytes(), "sample " + id);
                    assertEquals("sample-" + id, record.path());
                    readBytes += record.bytes().length;
                    final long onDisk = bytesOnDisk(cacheDir);
                    maxOnDisk = Math.max(maxOnDisk, onDisk);
                    assertTrue(onDisk <= CACHE_BYTES, "after sample " + id + ": " + onDisk + " bytes on disk > "
                        + CACHE_BYTES);
                }
                // sequential reads: neighbours come from the block the first one fetched
                for (long id = 0; id < 10; id++)
                {
                    data.record(id);
                }
            }
            assertTrue(readBytes > 5 * CACHE_BYTES, readBytes + " bytes read");
            assertTrue(data.cache().highWaterBytes() <= CACHE_BYTES);
            assertTrue(maxOnDisk > CACHE_BYTES - BLOCK_BYTES, "the cache is used up to its bound: " + maxOnDisk);
            assertTrue(data.cache().hits() > 0 && data.cache().misses() > 0,
                data.cache().hits() + " hits, " + data.cache().misses() + " misses");
        }
        assertFalse(Files.exists(folder), "the cache's folder is deleted when the data sets close");
        assertEquals(0, bytesOnDisk(cacheDir));
    }

    @Test
    void shouldFetchOnlyTheMissingBytesOfARecordWhenTheCacheIsSmallerThanItsData() throws IOException
    {
        final Path cacheDir = dir.resolve("cache-small");
        final List<Long> order = new ArrayList<>();
        for (long id = 0; id < IMAGES.size(); id++)
        {
            order.add(id);
        }
        try (ShardedDataset data = ShardedDataset.open(remote("/data"), "train", cacheDir, CACHE_BYTES, BLOCK_BYTES))
        {
            final ShardBlockCache cache = data.cache();
            assertFalse(cache.holdsItsData());
            for (int pass = 0; pass < 2; pass++)
            {
                Collections.shuffle(order, new Random(10 + pass));
                final long requested = cache.requestedBytes();
                final long remote = cache.remoteReadBytes();
                for (final long id : order)
                {
                    assertArrayEquals(IMAGES.get((int)id), data.record(id).bytes(), "sample " + id);
                }
                final long requestedInPass = cache.requestedBytes() - requested;
                final long remoteInPass = cache.remoteReadBytes() - remote;
                // no read-ahead: at most the bytes asked for cross the network, fewer when the checksum pass's
                // blocks still serve some records
                assertTrue(remoteInPass <= requestedInPass, remoteInPass + " remote bytes for " + requestedInPass);
                assertTrue(remoteInPass < requestedInPass, "the cached blocks serve some records");
                assertTrue(cache.highWaterBytes() <= CACHE_BYTES);
            }
        }
    }

    @Test
    void shouldServeASecondPassFromLocalDiskWhenTheCacheHoldsItsData() throws IOException
    {
        final Path cacheDir = dir.resolve("cache-large");
        try (ShardedDataset data = ShardedDataset.open(remote("/data"), "train", cacheDir, 1L << 20, BLOCK_BYTES))
        {
            final ShardBlockCache cache = data.cache();
            assertTrue(cache.holdsItsData());
            for (long id = IMAGES.size() - 1; id >= 0; id--)
            {
                assertArrayEquals(IMAGES.get((int)id), data.record(id).bytes());
            }
            final long remote = cache.remoteReadBytes();
            for (long id = 0; id < IMAGES.size(); id++)
            {
                assertArrayEquals(IMAGES.get((int)id), data.record(id).bytes());
            }
            assertEquals(remote, cache.remoteReadBytes(), "nothing fetched remotely on the second pass");
        }
    }

    @Test
    void shouldReadEverythingRemotelyWithACacheOfZero() throws IOException
    {
        final Path cacheDir = dir.resolve("cache-zero");
        try (ShardedDataset data = ShardedDataset.open(remote("/data"), "train", cacheDir, 0, BLOCK_BYTES))
        {
            for (long id = 0; id < IMAGES.size(); id += 7)
            {
                assertArrayEquals(IMAGES.get((int)id), data.record(id).bytes());
            }
            assertFalse(Files.exists(cacheDir), "nothing on local disk");
        }
    }

    @Test
    void shouldRefuseARemoteShardWhoseChecksumDoesNotMatchNamingIt() throws IOException
    {
        final Path copy = dir.resolve("damaged");
        try (Stream<Path> files = Files.walk(dir.resolve("data")))
        {
            for (final Path file : files.toList())
            {
                final Path target = copy.resolve(dir.resolve("data").relativize(file).toString());
                if (Files.isDirectory(file))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(file, target);
                }
            }
        }
        final Path shard = copy.resolve("train/" + ShardFormat.fileName("train", 1));
        final byte[] bytes = Files.readAllBytes(shard);
        bytes[100] ^= 0x10; // inside the first record's image
        Files.write(shard, bytes);
        hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(copy.toUri()), new org.apache.hadoop.fs.Path("/damaged"));
        try (ShardedDataset data = ShardedDataset.open(remote("/damaged"), "train", dir.resolve("cache-damaged"),
            CACHE_BYTES, BLOCK_BYTES))
        {
            assertArrayEquals(IMAGES.get(0), data.record(0).bytes(), "an intact shard reads");
            final IOException ex = assertThrows(IOException.class, () -> data.record(PER_SHARD));
            assertTrue(ex.getMessage().startsWith("checksum mismatch reading ") && ex.getMessage().contains(
                "/damaged/train/train-00001.shard"), ex.getMessage());
        }
    }

    @Test
    void shouldNotUseTheCacheForLocalFiles() throws IOException
    {
        try (ShardedDataset data = ShardedDataset.open(dir.resolve("data").toUri(), "train", dir.resolve("cache-l"),
            CACHE_BYTES, BLOCK_BYTES))
        {
            assertEquals(null, data.cache());
            assertArrayEquals(IMAGES.get(5), data.record(5).bytes());
        }
        assertFalse(Files.exists(dir.resolve("cache-l")));
    }
}
