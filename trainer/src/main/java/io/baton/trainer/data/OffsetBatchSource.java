package io.baton.trainer.data;

import java.util.Arrays;
import java.util.List;

/** The samples [offset, inner.size()) of another source, renumbered from 0. */
final class OffsetBatchSource implements BatchSource
{
    private final BatchSource inner;
    private final int offset;

    OffsetBatchSource(final BatchSource inner, final int offset)
    {
        this.inner = inner;
        this.offset = offset;
    }

    @Override
    public int size()
    {
        return inner.size() - offset;
    }

    @Override
    public int numClasses()
    {
        return inner.numClasses();
    }

    @Override
    public List<String> classNames()
    {
        return inner.classNames();
    }

    @Override
    public int[] shape()
    {
        return inner.shape();
    }

    @Override
    public int label(final int sampleId)
    {
        return inner.label(sampleId + offset);
    }

    @Override
    public Batch load(final int[] sampleIds, final long epoch, final boolean train)
    {
        return inner.load(Arrays.stream(sampleIds).map(id -> id + offset).toArray(), epoch, train);
    }

    @Override
    public void prefetch(final int[] sampleIds, final long epoch, final boolean train)
    {
        inner.prefetch(Arrays.stream(sampleIds).map(id -> id + offset).toArray(), epoch, train);
    }

    @Override
    public int prefetchBatches()
    {
        return inner.prefetchBatches();
    }

    @Override
    public void close()
    {
        inner.close();
    }
}
