package io.baton.trainer.model;

/**
 * The residual unit a stage is built from: torchvision's {@code BasicBlock} (two 3x3 convolutions) or
 * {@code Bottleneck} (1x1 reduce, 3x3, 1x1 expand by {@link #expansion()}).
 */
public enum BlockType
{
    BASIC(1),
    BOTTLENECK(4);

    private final int expansion;

    BlockType(final int expansion)
    {
        this.expansion = expansion;
    }

    /**
     * @return factor between a block's inner width and its output channels.
     */
    public int expansion()
    {
        return expansion;
    }
}
