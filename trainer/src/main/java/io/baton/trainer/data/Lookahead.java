package io.baton.trainer.data;

/**
 * Keeps a replica's {@link BatchSource} loading ahead within one epoch: after step s is loaded, the slices of steps
 * s+1 .. s+{@link BatchSource#prefetchBatches()} (not past the epoch) that were not hinted yet are hinted, in
 * order. So while step s trains, up to data.prefetch-batches batches load, and the source's work queue is in the
 * order the loop will ask. Used by one thread; one per epoch.
 */
public final class Lookahead
{
    private final BatchSource source;
    private final GlobalBatchSampler.EpochOrder order;
    private final long epoch;
    private final int rank;
    private final int depth;
    /** The last step hinted, -1 before any. */
    private int hinted = -1;

    public Lookahead(final BatchSource source, final GlobalBatchSampler.EpochOrder order, final long epoch,
        final int rank)
    {
        this.source = source;
        this.order = order;
        this.epoch = epoch;
        this.rank = rank;
        this.depth = source.prefetchBatches();
    }

    /** Step {@code step} of the epoch was just loaded: hints the steps after it up to the depth. */
    public void loaded(final int step)
    {
        final int last = Math.min(step + depth, order.steps() - 1);
        for (int next = Math.max(hinted, step) + 1; next <= last; next++)
        {
            source.prefetch(order.slice(next, rank), epoch, true);
            hinted = next;
        }
    }
}
