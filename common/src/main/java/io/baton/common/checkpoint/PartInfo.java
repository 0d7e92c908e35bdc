package io.baton.common.checkpoint;

/**
 * One part of a published checkpoint as recorded in its manifest.
 *
 * @param name      part name, e.g. {@code params}.
 * @param sizeBytes exact length of the part file.
 * @param crc32c    CRC32C of the part's bytes.
 */
public record PartInfo(String name, long sizeBytes, int crc32c)
{
    /** The checksum as 8 lower-case hex digits, as written in the manifest. */
    public String crc32cHex()
    {
        return String.format("%08x", crc32c);
    }
}
