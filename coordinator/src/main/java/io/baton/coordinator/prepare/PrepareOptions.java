package io.baton.coordinator.prepare;

import java.io.Serializable;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code baton prepare} was asked to do.
 *
 * @param input          root of the ImageNet-layout input tree, or of ImageNet's tar files
 *                       ({@link TarInput}), on any Hadoop file system URI.
 * @param output         root of the output (any Hadoop file system URI).
 * @param splits         splits to prepare, e.g. {@code [train, val]}.
 * @param valLabels      a {@code LOC_val_solution.csv} or {@code ILSVRC2012_validation_ground_truth.txt} for a flat
 *                       val folder or val tar, or null to look for one in the input root.
 * @param valMapping     "ILSVRC id, wnid" per line for the devkit ground truth, or null to look for one.
 * @param master         Spark master.
 * @param shardBytes     target input bytes per shard.
 * @param resizeShorter  shrink images whose shorter side is longer; 0 = keep files as they are.
 * @param jpegQuality    quality of re-encoded images.
 * @param keepPaths      store input paths in the records.
 * @param overwrite      replace an existing output.
 */
public record PrepareOptions(
    URI input,
    URI output,
    List<String> splits,
    URI valLabels,
    URI valMapping,
    String master,
    long shardBytes,
    int resizeShorter,
    int jpegQuality,
    boolean keepPaths,
    boolean overwrite) implements Serializable
{
    /** The options as recorded in the manifest. */
    public Map<String, Object> describe()
    {
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("input", input.toString());
        out.put("splits", splits);
        out.put("valLabels", valLabels == null ? null : valLabels.toString());
        out.put("valMapping", valMapping == null ? null : valMapping.toString());
        out.put("shardBytes", shardBytes);
        out.put("resizeShorterSide", resizeShorter);
        out.put("jpegQuality", jpegQuality);
        out.put("keepPaths", keepPaths);
        return out;
    }
}
