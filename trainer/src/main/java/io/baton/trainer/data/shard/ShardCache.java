package io.baton.trainer.data.shard;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Local disk copies of shards that live on a remote file system. A shard is copied on first use into
 * {@code <cache dir>/<name>}, its CRC32C checked against the manifest, then moved into place atomically; a cached
 * copy found from an earlier run is checked again before use. Thread-safe for distinct shards; callers serialise
 * requests for the same shard (several processes sharing the directory may copy the same shard twice, harmlessly).
 */
public final class ShardCache
{
    private static final int BUFFER_BYTES = 1 << 20;

    private final Path directory;

    public ShardCache(final Path directory)
    {
        this.directory = directory;
    }

    /** A verified local copy of {@code remote}, fetched if missing or damaged. */
    public Path localCopy(final FileSystem fs, final org.apache.hadoop.fs.Path remote, final Manifest.ShardEntry entry)
        throws IOException
    {
        final Path target = directory.resolve(entry.file());
        Files.createDirectories(target.getParent());
        if (Files.isRegularFile(target) && Files.size(target) == entry.bytes()
            && crc32c(target) == entry.crc32cValue())
        {
            return target;
        }
        final Path temp = target.resolveSibling(target.getFileName() + ".tmp-" + UUID.randomUUID());
        try
        {
            final CRC32C crc = new CRC32C();
            try (FSDataInputStream in = fs.open(remote); OutputStream out = Files.newOutputStream(temp))
            {
                final byte[] buffer = new byte[BUFFER_BYTES];
                int n;
                while ((n = in.read(buffer)) > 0)
                {
                    crc.update(buffer, 0, n);
                    out.write(buffer, 0, n);
                }
            }
            if (crc.getValue() != entry.crc32cValue() || Files.size(temp) != entry.bytes())
            {
                throw new IOException("checksum mismatch copying " + remote + " to the shard cache: expected crc32c "
                    + entry.crc32c() + " and " + entry.bytes() + " bytes, got " + Manifest.crcHex(crc.getValue())
                    + " and " + Files.size(temp) + " bytes");
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
        finally
        {
            Files.deleteIfExists(temp);
        }
    }

    /** CRC32C of a local file. */
    public static long crc32c(final Path file) throws IOException
    {
        final CRC32C crc = new CRC32C();
        try (InputStream in = Files.newInputStream(file))
        {
            final byte[] buffer = new byte[BUFFER_BYTES];
            int n;
            while ((n = in.read(buffer)) > 0)
            {
                crc.update(buffer, 0, n);
            }
        }
        return crc.getValue();
    }

    public Path directory()
    {
        return directory;
    }
}
