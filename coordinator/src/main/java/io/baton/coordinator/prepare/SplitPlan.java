package io.baton.coordinator.prepare;

import io.baton.trainer.data.shard.Manifest;

import java.util.List;

/**
 * The input of one split, in sample-id order: sorted by (label, path).
 *
 * @param split  split name.
 * @param layout how labels were found: {@code class-folders}, {@code loc-csv} or {@code devkit}; from ImageNet's
 *               tar files {@code class-tars}, {@code tar+loc-csv} or {@code tar+devkit}.
 * @param files   the images.
 * @param ignored files of the split that are not read, their names not ending in an image extension (relative to
 *                the input root, sorted).
 * @param skipped images known unreadable before any is read (in a truncated tar, or without a val label), with the
 *                reason; reported with those that fail to decode.
 */
public record SplitPlan(String split, String layout, List<InputFile> files, List<String> ignored,
    List<Manifest.SkippedFile> skipped)
{
    public SplitPlan
    {
        files = List.copyOf(files);
        ignored = List.copyOf(ignored);
        skipped = List.copyOf(skipped);
    }

    public SplitPlan(final String split, final String layout, final List<InputFile> files, final List<String> ignored)
    {
        this(split, layout, files, ignored, List.of());
    }

    /** Total input bytes. */
    public long bytes()
    {
        return files.stream().mapToLong(InputFile::length).sum();
    }
}
