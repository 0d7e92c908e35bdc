package io.baton.trainer.data.shard;

/**
 * The layout of one shard file, big-endian throughout:
 *
 * <pre>
 *   header   "BATNSHD2" (8 bytes)
 *   records  count x { int label; int pathLength; byte[pathLength] path (UTF-8, may be empty);
 *                      int dataLength; byte[dataLength] encoded image; int crc32c of the record's bytes before it }
 *   index    (count + 1) x long: the offset of each record, then the offset of the index itself
 *   footer   int count; long indexOffset; "BATNIDX1" (8 bytes)
 * </pre>
 *
 * A record's position in its shard is its ordinal; its sample id is the shard's first sample id (in the manifest)
 * plus the ordinal. The file's CRC32C over all its bytes is in the manifest. Each record carries its own CRC32C
 * because a damaged byte in an encoded image usually still decodes (a JPEG's entropy-coded data has no check of its
 * own): without it a flipped bit would train a slightly different model silently, and the file's CRC alone is only
 * checked when a shard is copied, not on every read. Version 1 shards ("BATNSHD1") have records without the CRC.
 * Stateless.
 */
public final class ShardFormat
{
    /** First 8 bytes of every shard written now (records with a CRC32C). */
    public static final long HEADER_MAGIC = 0x4241544E53484432L; // "BATNSHD2"
    /** First 8 bytes of a version 1 shard (records without a CRC32C), still readable. */
    public static final long HEADER_MAGIC_V1 = 0x4241544E53484431L; // "BATNSHD1"
    /** Last 8 bytes of every shard. */
    public static final long FOOTER_MAGIC = 0x4241544E49445831L; // "BATNIDX1"
    /** Bytes of the header. */
    public static final int HEADER_LENGTH = 8;
    /** Bytes of the footer: count, index offset, magic. */
    public static final int FOOTER_LENGTH = 4 + 8 + 8;
    /** Bytes of a record before its path: label and path length. */
    public static final int RECORD_PREFIX_LENGTH = 8;
    /** Bytes of a record's trailing CRC32C (version 2). */
    public static final int RECORD_CRC_LENGTH = 4;
    /** File name suffix of shards. */
    public static final String SUFFIX = ".shard";

    private ShardFormat()
    {
    }

    /** CRC32C of a local file (the manifest's checksum of a shard). */
    public static long crc32c(final java.nio.file.Path file) throws java.io.IOException
    {
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file))
        {
            final byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0)
            {
                crc.update(buffer, 0, n);
            }
        }
        return crc.getValue();
    }

    /**
     * Whether an error message (perhaps several causes deep, as Spark reports a task's failure) is a shard reader's
     * report of damaged data: "corrupt record N (sample S) of shard ..." or "corrupt shard ...".
     */
    public static boolean isDamageReport(final String message)
    {
        return message != null && (message.contains("corrupt record ") || message.contains("corrupt shard "));
    }

    /** File name of shard {@code index} of {@code split}, e.g. {@code train-00003.shard}. */
    public static String fileName(final String split, final int index)
    {
        return String.format("%s-%05d%s", split, index, SUFFIX);
    }
}
