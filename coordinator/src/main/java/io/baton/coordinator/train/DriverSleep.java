package io.baton.coordinator.train;

import java.time.Duration;

/**
 * The driver's waits between stages (for slots, a restart's back-off): an interrupt ends the job rather than the
 * wait alone.
 *
 * <p>Threading: sleeps the caller's thread.
 */
final class DriverSleep
{
    private DriverSleep()
    {
    }

    /** Sleeps {@code wait}; interrupted, re-sets the interrupt and throws. */
    static void sleep(final Duration wait)
    {
        try
        {
            Thread.sleep(wait.toMillis());
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to restart", ex);
        }
    }
}
