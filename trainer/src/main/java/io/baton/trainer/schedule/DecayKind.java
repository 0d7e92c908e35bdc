package io.baton.trainer.schedule;

/** LR decay after warmup ({@code optim.schedule}). */
public enum DecayKind
{
    /** lr x factor at each configured epoch boundary. */
    STEP,
    /** Half-cosine from the scaled lr at the end of warmup to 0 at the end of training. */
    COSINE,
    /** The scaled lr until the end. */
    CONSTANT
}
