package io.baton.trainer.data.shard;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The description of a prepared data set, {@code manifest.json} at the root of {@code baton prepare}'s output. It is
 * written last (temporary name, then rename), so an output without it is incomplete. Immutable.
 *
 * @param formatVersion  {@link #FORMAT_VERSION} (1: shards without record checksums, still read); readers refuse
 *                       other versions.
 * @param classes        class wnids sorted as Java strings (torchvision's ImageFolder order); index = class label.
 * @param classToIndex   the same as a map, for tools.
 * @param splits         split name ({@code train}, {@code val}) to its description.
 * @param options        the options prepare ran with (input, resize, quality, shard size, ...).
 * @param createdAtUtc   when prepare finished, ISO-8601.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
    int formatVersion,
    List<String> classes,
    Map<String, Integer> classToIndex,
    Map<String, Split> splits,
    Map<String, Object> options,
    String createdAtUtc)
{
    /** Version of the shard and manifest format written now: 2, records with a CRC32C each. */
    public static final int FORMAT_VERSION = 2;
    /** The oldest version still read: 1, shards whose records have no checksum of their own. */
    public static final int OLDEST_READ_VERSION = 1;
    /** File name of the manifest in the output root. */
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One split. Sample ids are dense, in order of (class index, input path), so the samples of class {@code c} are
     * the id range starting at the sum of the counts of the classes before it.
     *
     * @param count       samples in the split.
     * @param perClass    samples per class, indexed by label.
     * @param layout      how labels were found: {@code class-folders}, {@code loc-csv} or {@code devkit}.
     * @param shards      the split's shards in sample-id order.
     * @param skipped     input files that could not be read or decoded, skipped.
     * @param inputBytes  bytes of the input files read.
     */
    public record Split(
        long count,
        List<Long> perClass,
        String layout,
        List<ShardEntry> shards,
        List<SkippedFile> skipped,
        long inputBytes)
    {
    }

    /**
     * One shard file.
     *
     * @param file          name relative to the output root, e.g. {@code train/train-00000.shard}.
     * @param firstSampleId the sample id of the shard's first record.
     * @param count         records in the shard.
     * @param bytes         file size.
     * @param crc32c        CRC32C of the whole file, 8 lower-case hex digits.
     */
    public record ShardEntry(String file, long firstSampleId, int count, long bytes, String crc32c)
        implements java.io.Serializable
    {
        /** The checksum as a number. */
        public long crc32cValue()
        {
            return Long.parseLong(crc32c, 16);
        }
    }

    /**
     * An input file left out.
     *
     * @param path   its path relative to the input root.
     * @param reason why, e.g. the decoder's message.
     */
    public record SkippedFile(String path, String reason) implements java.io.Serializable
    {
    }

    /** Builds the wnid-to-index map of a sorted class list. */
    public static Map<String, Integer> indexOf(final List<String> sortedClasses)
    {
        final Map<String, Integer> map = new LinkedHashMap<>();
        for (int i = 0; i < sortedClasses.size(); i++)
        {
            map.put(sortedClasses.get(i), i);
        }
        return map;
    }

    /** CRC32C as 8 lower-case hex digits. */
    public static String crcHex(final long crc32c)
    {
        return String.format("%08x", crc32c);
    }

    public byte[] toJson() throws IOException
    {
        return JSON.writeValueAsBytes(this);
    }

    /** Parses a manifest; {@code source} names it in errors. */
    public static Manifest fromJson(final byte[] json, final String source) throws IOException
    {
        final Manifest manifest = JSON.readValue(json, Manifest.class);
        if (manifest.formatVersion() < OLDEST_READ_VERSION || manifest.formatVersion() > FORMAT_VERSION)
        {
            throw new IOException("unsupported manifest formatVersion " + manifest.formatVersion() + " (this Baton "
                + "reads " + OLDEST_READ_VERSION + " to " + FORMAT_VERSION + "): " + source);
        }
        return manifest;
    }
}
