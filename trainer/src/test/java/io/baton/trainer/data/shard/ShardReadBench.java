package io.baton.trainer.data.shard;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Benchmark (not a test): reading prepared shards in the sampler's random order from local files and from a
 * MiniDFSCluster in the same run, the latter through {@link ShardBlockCache} with no cache, then a cache of a quarter
 * of the data, 90 % of it, and twice it. Data: random records of ~110 kB (an ImageNet JPEG's mean) in shards of
 * ~25 MB. Per configuration and pass: records/s, MB/s and the most bytes the cache held on local disk. The first pass over HDFS
 * includes the once-per-process CRC check of every shard.
 * Usage: {@code ShardReadBench <dir> [megabytes=200] [passes=2]}.
 */
public final class ShardReadBench
{
    private static final int RECORD_BYTES = 110_000;
    private static final int PER_SHARD = 230;

    private ShardReadBench()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Path dir = Path.of(args[0]);
        final long megabytes = args.length > 1 ? Long.parseLong(args[1]) : 200;
        final int passes = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        final int records = (int)(megabytes * 1_000_000 / RECORD_BYTES);
        final long dataBytes = write(dir.resolve("data"), records);
        final Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("dfs").toString());
        final MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try
        {
            cluster.waitActive();
            final FileSystem hdfs = cluster.getFileSystem();
            hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(dir.resolve("data").toUri()),
                new org.apache.hadoop.fs.Path("/data"));
            final URI remote = URI.create(hdfs.getUri() + "/data");
            System.out.printf(Locale.ROOT, "%d records of ~%d kB, %.1f MB in %d shards; random order, %d passes%n",
                records, RECORD_BYTES / 1000, dataBytes / 1e6, (records + PER_SHARD - 1) / PER_SHARD, passes);
            System.out.println("| source | cache | pass | records/s | MB/s | most on local disk |");
            System.out.println("|---|---|---|---|---|---|");
            run("local files", dir.resolve("data").toUri(), dir.resolve("c0"), 0, passes, records);
            // no cache first, then growing caches: a cache's block files written and deleted are not yet on disk
            // when the next configuration starts, and slowed the one after the largest cache in an earlier order
            run("MiniDFSCluster", remote, dir.resolve("c3"), 0, passes, records);
            run("MiniDFSCluster", remote, dir.resolve("c2"), dataBytes / 4, passes, records);
            run("MiniDFSCluster", remote, dir.resolve("c5"), dataBytes * 9 / 10, passes, records);
            run("MiniDFSCluster", remote, dir.resolve("c1"), 2 * dataBytes, passes, records);
            run("local files", dir.resolve("data").toUri(), dir.resolve("c4"), 0, passes, records);
        }
        finally
        {
            cluster.shutdown();
        }
    }

    private static void run(final String source, final URI root, final Path cacheDir, final long cacheBytes,
        final int passes, final int records) throws IOException
    {
        final List<Long> order = new ArrayList<>();
        for (long id = 0; id < records; id++)
        {
            order.add(id);
        }
        try (ShardedDataset data = ShardedDataset.open(root, "train", cacheDir, cacheBytes))
        {
            for (int pass = 1; pass <= passes; pass++)
            {
                Collections.shuffle(order, new Random(pass));
                long bytes = 0;
                final long start = System.nanoTime();
                for (final long id : order)
                {
                    bytes += data.record(id).bytes().length;
                }
                final double seconds = (System.nanoTime() - start) / 1e9;
                final String disk = data.cache() == null ? "- (read in place)"
                    : String.format(Locale.ROOT, "%.1f MB (bound %.1f MB)", data.cache().highWaterBytes() / 1e6,
                    cacheBytes / 1e6);
                System.out.printf(Locale.ROOT, "| %s | %s | %d | %.0f | %.0f | %s |%n", source,
                    data.cache() == null ? "-" : String.format(Locale.ROOT, "%.0f MB", cacheBytes / 1e6), pass,
                    records / seconds, bytes / 1e6 / seconds, disk);
            }
        }
    }

    /** Shards of random records under {@code root}; returns the bytes of all shards. */
    private static long write(final Path root, final int records) throws IOException
    {
        Files.createDirectories(root.resolve("train"));
        final Random random = new Random(21);
        final List<Manifest.ShardEntry> entries = new ArrayList<>();
        long total = 0;
        for (int first = 0, s = 0; first < records; first += PER_SHARD, s++)
        {
            final int count = Math.min(PER_SHARD, records - first);
            final String file = "train/" + ShardFormat.fileName("train", s);
            final long crc;
            try (ShardWriter writer = new ShardWriter(Files.newOutputStream(root.resolve(file))))
            {
                for (int r = 0; r < count; r++)
                {
                    final byte[] image = new byte[RECORD_BYTES / 2 + random.nextInt(RECORD_BYTES)];
                    random.nextBytes(image);
                    writer.append(0, "", image);
                }
                crc = writer.finish();
            }
            final long size = Files.size(root.resolve(file));
            total += size;
            entries.add(new Manifest.ShardEntry(file, first, count, size, Manifest.crcHex(crc)));
        }
        final Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, List.of("a"), Manifest.indexOf(List.of("a")),
            Map.of("train", new Manifest.Split(records, List.of((long)records), "bench", entries, List.of(), 0)),
            Map.of(), "bench");
        Files.write(root.resolve(Manifest.FILE_NAME), manifest.toJson());
        return total;
    }
}
