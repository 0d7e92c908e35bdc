package io.baton.trainer.model;

/**
 * What a residual block's shortcut actually is in a built graph, as recovered by {@link ResidualBlocks}.
 */
public enum ShortcutKind
{
    /**
     * The block input is added unchanged.
     */
    IDENTITY,
    /**
     * Option A: subsampled and zero-padded input ({@link ZeroPadShortcutVertex}, or its DL4J form
     * {@link ZeroPadShortcutBuiltIns} in an exported model).
     */
    ZERO_PAD,
    /**
     * 1x1 convolution (+ BN) on the input.
     */
    PROJECTION,
    /**
     * No shortcut at all: a block of a plain network.
     */
    NONE
}
