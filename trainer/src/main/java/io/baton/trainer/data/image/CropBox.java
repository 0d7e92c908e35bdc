package io.baton.trainer.data.image;

/**
 * A crop rectangle in source pixels, in torchvision's (top, left, height, width) order.
 *
 * @param top    first row.
 * @param left   first column.
 * @param height rows.
 * @param width  columns.
 */
public record CropBox(int top, int left, int height, int width)
{
}
