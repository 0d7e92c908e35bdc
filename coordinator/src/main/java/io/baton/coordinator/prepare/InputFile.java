package io.baton.coordinator.prepare;

import java.io.Serializable;

/**
 * One input image of a split: a file of the input tree, or a member of one of ImageNet's tar files.
 *
 * @param path    path relative to the input root, with '/' separators (e.g. {@code train/n01440764/x.JPEG}); for a
 *                tar member, the path it would have in the extracted tree.
 * @param label   class index.
 * @param length  size in bytes.
 * @param archive null for a file at {@code path}; else the tar holding the image, relative to the input root.
 * @param offset  for a tar member, the position of its first byte in {@code archive}; -1 for a file.
 */
public record InputFile(String path, int label, long length, String archive, long offset) implements Serializable
{
    /** A file of the input tree. */
    public InputFile(final String path, final int label, final long length)
    {
        this(path, label, length, null, -1);
    }
}
