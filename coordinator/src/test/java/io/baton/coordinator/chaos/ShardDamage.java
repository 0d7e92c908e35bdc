package io.baton.coordinator.chaos;

import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardFormat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * One flipped byte in the image data of a random record of a prepared data set's train split, for the chaos
 * runner's shard fault; {@link #restore()} puts the byte back so the same run can resume.
 */
final class ShardDamage
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

    /** Flips one bit of one byte of the encoded image of a record drawn from {@code random}. */
    static ShardDamage flip(final Path dataRoot, final Random random) throws IOException
    {
        final Manifest manifest = Manifest.fromJson(Files.readAllBytes(dataRoot.resolve(Manifest.FILE_NAME)),
            dataRoot.toString());
        final var shards = manifest.splits().get("train").shards();
        final Manifest.ShardEntry shard = shards.get(random.nextInt(shards.size()));
        final int ordinal = random.nextInt(shard.count());
        final Path file = dataRoot.resolve(shard.file());
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw"))
        {
            raf.seek(raf.length() - ShardFormat.FOOTER_LENGTH + 4);
            final long indexOffset = raf.readLong();
            raf.seek(indexOffset + 8L * ordinal);
            final long record = raf.readLong();
            raf.seek(record + 4);
            final int pathLength = raf.readInt();
            raf.seek(record + ShardFormat.RECORD_PREFIX_LENGTH + pathLength);
            final int dataLength = raf.readInt();
            final long at = record + ShardFormat.RECORD_PREFIX_LENGTH + pathLength + 4 + random.nextInt(dataLength);
            raf.seek(at);
            final int original = raf.read();
            raf.seek(at);
            raf.write(original ^ (1 << random.nextInt(8)));
            return new ShardDamage(file, "flipped a bit of byte " + at + " of " + shard.file() + ", in the image of "
                + "record " + ordinal + " (sample " + (shard.firstSampleId() + ordinal) + ")", at, original,
                "corrupt record " + ordinal + " (sample " + (shard.firstSampleId() + ordinal) + ") of shard ");
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
