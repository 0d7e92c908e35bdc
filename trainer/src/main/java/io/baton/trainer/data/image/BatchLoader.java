package io.baton.trainer.data.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Loads batches of samples by id: reads, decodes ({@link ImageDecoder}) and transforms ({@link ImageTransform}) each
 * sample as one task on a fixed pool of daemon threads, keeping up to {@code prefetchBatches} batches in flight
 * beyond the one being consumed. The output depends only on (transform, epoch, sample ids), never on the number of
 * threads or on timing.
 *
 * <p>Threading: {@link #load} and {@link #stream} may be called from any thread; a {@link Stream} is used by one
 * consumer thread. {@link #close()} stops the pool (pending batches fail) and is idempotent.
 */
public final class BatchLoader implements AutoCloseable
{
    private final SampleSource source;
    private final ImageDecoder decoder;
    private final ImageTransform transform;
    private final int prefetchBatches;
    private final ExecutorService pool;

    public BatchLoader(
        final SampleSource source,
        final ImageDecoder decoder,
        final ImageTransform transform,
        final int threads,
        final int prefetchBatches)
    {
        if (threads <= 0)
        {
            throw new IllegalArgumentException("threads must be > 0, threads=" + threads);
        }
        if (prefetchBatches < 0)
        {
            throw new IllegalArgumentException("prefetchBatches must be >= 0, prefetchBatches=" + prefetchBatches);
        }
        this.source = source;
        this.decoder = decoder;
        this.transform = transform;
        this.prefetchBatches = prefetchBatches;
        this.pool = Executors.newFixedThreadPool(threads, new LoaderThreads());
    }

    /** Loads one batch and waits for it. */
    public Batch load(final long epoch, final long[] sampleIds)
    {
        return await(submit(epoch, sampleIds));
    }

    /** Loads {@code batches} in order, prefetching ahead of the consumer. */
    public Stream stream(final long epoch, final List<long[]> batches)
    {
        return new Stream(epoch, batches);
    }

    /** Starts loading one batch. */
    public CompletableFuture<Batch> submit(final long epoch, final long[] sampleIds)
    {
        final int length = transform.sampleLength();
        final float[] features = new float[sampleIds.length * length];
        final int[] labels = new int[sampleIds.length];
        final CompletableFuture<?>[] parts = new CompletableFuture<?>[sampleIds.length];
        for (int i = 0; i < sampleIds.length; i++)
        {
            final int slot = i;
            parts[i] = CompletableFuture.runAsync(() ->
            {
                final long id = sampleIds[slot];
                try
                {
                    labels[slot] = source.label(id);
                    transform.decodeAndApply(decoder, source.bytes(id), id, epoch, features, slot * length);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException("sample " + id + " (epoch " + epoch + "): " + ex.getMessage(), ex);
                }
            }, pool);
        }
        return CompletableFuture.allOf(parts)
            .thenApply(done -> new Batch(sampleIds.clone(), features, labels, transform.outputSize()));
    }

    /** Stops the loader threads; batches still loading fail. Idempotent. */
    @Override
    public void close()
    {
        pool.shutdownNow();
        try
        {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static Batch await(final CompletableFuture<Batch> future)
    {
        try
        {
            return future.join();
        }
        catch (final CompletionException ex)
        {
            if (ex.getCause() instanceof RuntimeException cause)
            {
                throw cause;
            }
            throw ex;
        }
    }

    /** Batches of one epoch in order; keeps the next {@code prefetchBatches} loading. Single consumer. */
    public final class Stream implements Iterator<Batch>, AutoCloseable
    {
        private final long epoch;
        private final List<long[]> batches;
        private final ArrayDeque<CompletableFuture<Batch>> inFlight = new ArrayDeque<>();
        private int submitted;

        private Stream(final long epoch, final List<long[]> batches)
        {
            this.epoch = epoch;
            this.batches = batches;
            topUp();
        }

        private void topUp()
        {
            while (submitted < batches.size() && inFlight.size() <= prefetchBatches)
            {
                inFlight.addLast(submit(epoch, batches.get(submitted++)));
            }
        }

        @Override
        public boolean hasNext()
        {
            return !inFlight.isEmpty();
        }

        @Override
        public Batch next()
        {
            if (inFlight.isEmpty())
            {
                throw new NoSuchElementException("all " + batches.size() + " batches of epoch " + epoch + " consumed");
            }
            final CompletableFuture<Batch> head = inFlight.removeFirst();
            topUp();
            return await(head);
        }

        /** Cancels the batches not yet consumed. */
        @Override
        public void close()
        {
            inFlight.forEach(f -> f.cancel(false));
            inFlight.clear();
            submitted = batches.size();
        }
    }

    private static final class LoaderThreads implements ThreadFactory
    {
        private static final AtomicInteger POOLS = new AtomicInteger();
        private final int pool = POOLS.incrementAndGet();
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(final Runnable task)
        {
            final Thread thread = new Thread(task, "baton-loader-" + pool + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
