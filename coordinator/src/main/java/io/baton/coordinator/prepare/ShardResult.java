package io.baton.coordinator.prepare;

import io.baton.trainer.data.shard.Manifest;

import java.io.Serializable;
import java.util.List;

/**
 * What a shard task reports back to the driver.
 *
 * @param split      split name.
 * @param index      shard number within the split.
 * @param file       shard path relative to the output root.
 * @param count      records written.
 * @param bytes      shard file size.
 * @param crc32c     CRC32C of the shard file.
 * @param perClass   records per label, indexed by label.
 * @param skipped    input files left out, with the reason.
 * @param inputBytes bytes of input read.
 */
public record ShardResult(
    String split,
    int index,
    String file,
    int count,
    long bytes,
    long crc32c,
    long[] perClass,
    List<Manifest.SkippedFile> skipped,
    long inputBytes) implements Serializable
{
}
