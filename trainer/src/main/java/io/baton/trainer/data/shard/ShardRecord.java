package io.baton.trainer.data.shard;

/**
 * One sample as stored in a shard.
 *
 * @param sampleId dense id of the sample within its split.
 * @param label    class index (position of the class's wnid in the sorted class list).
 * @param path     the input file the sample came from (relative to the input root), or empty when not kept.
 * @param bytes    the encoded image (the original file, or its resized re-encoding when prepared with a resize).
 */
public record ShardRecord(long sampleId, int label, String path, byte[] bytes)
{
}
