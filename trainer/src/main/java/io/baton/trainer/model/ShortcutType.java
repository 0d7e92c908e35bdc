package io.baton.trainer.model;

/**
 * How a residual block's shortcut is built (He et al. 2015, section 3.3).
 */
public enum ShortcutType
{
    /**
     * Identity where the shape is kept; where it changes, spatial subsampling plus zero channels (no parameters).
     */
    A,
    /**
     * Identity where the shape is kept; 1x1 convolution + BN projection where it changes (torchvision).
     */
    B,
    /**
     * 1x1 convolution + BN projection on every block.
     */
    C
}
