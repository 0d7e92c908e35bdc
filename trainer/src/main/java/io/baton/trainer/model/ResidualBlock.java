package io.baton.trainer.model;

/**
 * Description of one block of a built graph, recovered from the graph itself by {@link ResidualBlocks}.
 *
 * @param name         block prefix, e.g. {@code stage2_block1}.
 * @param stage        1-based stage number.
 * @param index        1-based block number within the stage.
 * @param inputVertex  vertex feeding the block.
 * @param outputVertex the block's output vertex ({@code ..._out}, or {@code ..._add} for pre-activation).
 * @param inChannels   channels entering the block.
 * @param outChannels  channels leaving the block.
 * @param stride       spatial reduction factor between input and output.
 * @param shortcut     what the shortcut is.
 */
public record ResidualBlock(
    String name,
    int stage,
    int index,
    String inputVertex,
    String outputVertex,
    long inChannels,
    long outChannels,
    int stride,
    ShortcutKind shortcut)
{
    /**
     * @return true if the block changes channels or spatial size.
     */
    public boolean changesShape()
    {
        return stride != 1 || inChannels != outChannels;
    }

    /**
     * @return true for a broken residual block: its shape changes but the shortcut is a bare identity.
     */
    public boolean lacksProjection()
    {
        return changesShape() && shortcut == ShortcutKind.IDENTITY;
    }
}
