package io.baton.common.checkpoint;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stops a {@link CheckpointStore#write} from another thread without interrupting the writing thread: an interrupt
 * can break a write in flight (HDFS's output stream and the local file system's interruptible channels fail or close
 * on it, leaving the stream unusable). The write polls {@link #isCancelled()} before each part and every 1 MB slice
 * of a part and stops there; right before it publishes it calls {@link #tryStartPublish()}, so a cancel either
 * happens before the publish (and the checkpoint is never published) or fails because the publish has begun.
 * Thread-safe.
 */
public final class WriteCancellation
{
    private static final int RUNNING = 0;
    private static final int PUBLISHING = 1;
    private static final int CANCELLED = 2;

    private final AtomicInteger state = new AtomicInteger(RUNNING);

    /** A cancellation nobody triggers. */
    public static WriteCancellation none()
    {
        return new WriteCancellation();
    }

    /**
     * Cancels the write unless it already began to publish.
     *
     * @return true if the write will not publish; false if it is publishing (or published) already.
     */
    public boolean cancel()
    {
        return state.compareAndSet(RUNNING, CANCELLED) || state.get() == CANCELLED;
    }

    public boolean isCancelled()
    {
        return state.get() == CANCELLED;
    }

    /** The write is about to publish: false if it was cancelled (it must not publish), true otherwise. */
    boolean tryStartPublish()
    {
        return state.compareAndSet(RUNNING, PUBLISHING);
    }
}
