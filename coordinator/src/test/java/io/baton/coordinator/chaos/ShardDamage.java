package io.baton.coordinator.chaos;

import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardFormat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * One flipped byte in the image data of a record of a prepared data set: a random record of the train split for the
 * chaos runner's shard fault, or a chosen one for a test; {@link #restore()} puts the byte back so the same run can
 * resume.
 */
public final class ShardDamage
{
    private final Path file;
    private final String description;
    private final long at;
    private final int original;
    private final String expectedError;

    private ShardDamage(final Path file, final String description, final long at, final int original,
        final String expectedError)
    {
        this.file = file;
        this.description = description;
        this.at = at;
        this.original = original;
        this.expectedError = expectedError;
    }

    /** Flips one bit of one byte of the encoded image of a record of the train split drawn from {@code random}. */
    static ShardDamage flip(final Path dataRoot, final Random random) throws IOException
    {
        final List<Manifest.ShardEntry> shards = shards(dataRoot, "train");
        final int shard = random.nextInt(shards.size());
        final int ordinal = random.nextInt(shards.get(shard).count());
        final int imageBytes = (int)image(dataRoot.resolve(shards.get(shard).file()), ordinal)[1];
        final int byteInImage = random.nextInt(imageBytes);
        return flip(dataRoot, "train", shard, ordinal, byteInImage, random.nextInt(8));
    }

    /**
     * Flips bit {@code bit} of byte {@code byteInImage} of the encoded image of record {@code ordinal} of shard
     * {@code shard} of {@code split}: the reader then fails that record's CRC32C.
     */
    public static ShardDamage flip(final Path dataRoot, final String split, final int shard, final int ordinal,
        final int byteInImage, final int bit) throws IOException
    {
        final Manifest.ShardEntry entry = shards(dataRoot, split).get(shard);
        final Path file = dataRoot.resolve(entry.file());
        final long at = image(file, ordinal)[0] + byteInImage;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(at);
            final int original = raf.read();
            raf.seek(at);
            raf.write(original ^ (1 << bit));
            return new ShardDamage(file, "flipped a bit of byte " + at + " of " + entry.file() + ", in the image of "
                + "record " + ordinal + " (sample " + (entry.firstSampleId() + ordinal) + ")", at, original,
                "corrupt record " + ordinal + " (sample " + (entry.firstSampleId() + ordinal) + ") of shard ");
        }
    }

    private static List<Manifest.ShardEntry> shards(final Path dataRoot, final String split) throws IOException
    {
        return Manifest.fromJson(Files.readAllBytes(dataRoot.resolve(Manifest.FILE_NAME)), dataRoot.toString())
            .splits().get(split).shards();
    }

    /** {start, length} in {@code file} of the encoded image of record {@code ordinal}, read from the shard's index. */
    private static long[] image(final Path file, final int ordinal) throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r"))
        {
            raf.seek(raf.length() - ShardFormat.FOOTER_LENGTH + 4);
            final long indexOffset = raf.readLong();
            raf.seek(indexOffset + 8L * ordinal);
            final long record = raf.readLong();
            raf.seek(record + 4);
            final int pathLength = raf.readInt();
            raf.seek(record + ShardFormat.RECORD_PREFIX_LENGTH + pathLength);
            final int dataLength = raf.readInt();
            return new long[] {record + ShardFormat.RECORD_PREFIX_LENGTH + pathLength + 4, dataLength};
        }
    }

    /** Writes the original byte back. */
    void restore() throws IOException
    {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(at);
            raf.write(original);
        }
    }

    /** The start of the reader's error for this record: {@code corrupt record N (sample S) of shard}. */
    String expectedError()
    {
        return expectedError;
    }

    @Override
    public String toString()
    {
        return description;
    }
}
