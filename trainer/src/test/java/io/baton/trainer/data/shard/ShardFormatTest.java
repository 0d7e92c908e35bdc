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

    @Test
    void shouldFailNamingShardRecordAndSampleWhenAnyByteOfARecordIsFlipped() throws IOException
    {
        final Path file = tmp().resolve("train-00002.shard");
        try (OutputStream out = Files.newOutputStream(file); ShardWriter writer = new ShardWriter(out))
        {
            writer.append(0, "train/n00/a.JPEG", new byte[] {1, 2, 3, 4, 5});
            writer.append(1, "", new byte[] {6, 7, 8});
            writer.append(1, "train/n01/c.png", new byte[] {9, 10});
            writer.finish();
        }
        final byte[] good = Files.readAllBytes(file);
        final long start;
        final long end;
        try (ShardReader reader = ShardReader.open(file))
        {
            assertTrue(reader.recordCrcs());
            // Record 1 spans from after record 0 to record 2: 8-byte header, record 0 = 8 + 16 + 4 + 5 + 4 bytes.
            start = ShardFormat.HEADER_LENGTH + 8 + 16 + 4 + 5 + 4;
            end = start + 8 + 4 + 3 + 4;
            assertArrayEquals(new byte[] {6, 7, 8}, reader.read(1, 40).bytes());
        }
        for (long at = start; at < end; at++)
        {
            final byte[] bad = good.clone();
            bad[(int) at] ^= 0x01;
            Files.write(file, bad);
            try (ShardReader reader = ShardReader.open(file))
            {
                final IOException ex = assertThrows(IOException.class, () -> reader.read(1, 40), "byte " + at);
                assertTrue(ex.getMessage().startsWith("corrupt record 1 (sample 41) of shard ")
                    && ex.getMessage().contains("train-00002.shard"), ex.getMessage());
                // The records around it are unaffected.
                assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, reader.read(0, 40).bytes());
                assertArrayEquals(new byte[] {9, 10}, reader.read(2, 40).bytes());
            }
        }
    }

    @Test
    void shouldStillReadAVersion1ShardWhoseRecordsHaveNoChecksum() throws IOException
    {
        final Path file = tmp().resolve("train-00003.shard");
        final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes))
        {
            out.writeLong(ShardFormat.HEADER_MAGIC_V1);
            out.writeInt(2);
            out.writeInt(0);
            out.writeInt(3);
            out.write(new byte[] {7, 8, 9});
            final long index = ShardFormat.HEADER_LENGTH + 8 + 4 + 3;
            out.writeLong(ShardFormat.HEADER_LENGTH);
            out.writeLong(index);
            out.writeInt(1);
            out.writeLong(index);
            out.writeLong(ShardFormat.FOOTER_MAGIC);
        }
        Files.write(file, bytes.toByteArray());
        try (ShardReader reader = ShardReader.open(file))
        {
            assertEquals(false, reader.recordCrcs());
            final ShardRecord record = reader.read(0, 5);
            assertEquals(2, record.label());
            assertArrayEquals(new byte[] {7, 8, 9}, record.bytes());
        }
    }
}
