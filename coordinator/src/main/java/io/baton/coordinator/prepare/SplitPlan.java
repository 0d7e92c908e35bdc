package io.baton.coordinator.prepare;

import java.util.List;

/**
 * The input of one split, in sample-id order: sorted by (label, path).
 *
 * @param split  split name.
 * @param layout how labels were found: {@code class-folders}, {@code loc-csv} or {@code devkit}.
 * @param files   the images.
 * @param ignored files of the split that are not read, their names not ending in an image extension (relative to
 *                the input root, sorted).
 */
public record SplitPlan(String split, String layout, List<InputFile> files, List<String> ignored)
{
    public SplitPlan
    {
        files = List.copyOf(files);
        ignored = List.copyOf(ignored);
    }

    /** Total input bytes. */
    public long bytes()
    {
        return files.stream().mapToLong(InputFile::length).sum();
    }
}
