package io.baton.coordinator.prepare;

import java.io.Serializable;

/**
 * One input image of a split.
 *
 * @param path   path relative to the input root, with '/' separators (e.g. {@code train/n01440764/x.JPEG}).
 * @param label  class index.
 * @param length file size in bytes.
 */
public record InputFile(String path, int label, long length) implements Serializable
{
}
