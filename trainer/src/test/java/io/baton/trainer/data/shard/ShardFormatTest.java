package io.baton.trainer.data.shard;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardFormatTest
{
    private static Path tmp() throws IOException
    {
        final Path base = Path.of(System.getProperty("baton.test.tmp", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        return Files.createTempDirectory(base, "shard");
    }

    @Test
    void shouldReadBackEveryRecordByOrdinalWithTheChecksumOfTheFile() throws IOException
    {
        final Path file = tmp().resolve("train-00000.shard");
        final Random random = new Random(3);
        final byte[][] data = new byte[2500][];
        final long crc;
        try (OutputStream out = Files.newOutputStream(file); ShardWriter writer = new ShardWriter(out))
        {
            for (int i = 0; i < data.length; i++)
            {
                data[i] = new byte[random.nextInt(300)];
                random.nextBytes(data[i]);
                writer.append(i % 7, i % 2 == 0 ? "train/n0" + i % 7 + "/f" + i + ".JPEG" : "", data[i]);
            }
            crc = writer.finish();
            assertEquals(Files.size(file), writer.bytesWritten());
        }
        assertEquals(crc, ShardFormat.crc32c(file));
        try (ShardReader reader = ShardReader.open(file))
        {
            assertEquals(data.length, reader.count());
            for (final int i : new int[] {0, 1, 1234, 2499})
            {
                final ShardRecord record = reader.read(i, 1000);
                assertEquals(1000 + i, record.sampleId());
                assertEquals(i % 7, record.label());
                assertEquals(i % 2 == 0 ? "train/n0" + i % 7 + "/f" + i + ".JPEG" : "", record.path());
                assertArrayEquals(data[i], record.bytes());
            }
            assertThrows(IndexOutOfBoundsException.class, () -> reader.read(2500, 0));
        }
    }

    @Test
    void shouldRefuseATruncatedShardNamingTheFile() throws IOException
    {
        final Path file = tmp().resolve("val-00001.shard");
        try (OutputStream out = Files.newOutputStream(file); ShardWriter writer = new ShardWriter(out))
        {
            writer.append(1, "", new byte[100]);
            writer.append(2, "", new byte[100]);
            writer.finish();
        }
        final byte[] whole = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(whole, whole.length - 3));
        final IOException ex = assertThrows(IOException.class, () -> ShardReader.open(file));
        assertTrue(ex.getMessage().contains("val-00001.shard"), ex.getMessage());
    }
}
