package io.baton.common.checkpoint;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Which published checkpoints to delete once a new one is published: keep the newest {@code keepLast}, plus every
 * checkpoint whose step is a positive multiple of {@code keepEverySteps} (0 = none kept forever). The just-published
 * checkpoint is always kept; published checkpoints with a larger step than it are from an abandoned trajectory (the
 * run was resumed from an earlier step) and are deleted. A pure function, safe to share between threads.
 *
 * @param keepLast       newest checkpoints kept, at least 1.
 * @param keepEverySteps checkpoints at positive multiples of this step are kept forever; 0 = off.
 */
public record RetentionPolicy(int keepLast, long keepEverySteps)
{
    public RetentionPolicy
    {
        if (keepLast < 1)
        {
            throw new IllegalArgumentException("keepLast must be >= 1, keepLast=" + keepLast);
        }
        if (keepEverySteps < 0)
        {
            throw new IllegalArgumentException("keepEverySteps must be >= 0, keepEverySteps=" + keepEverySteps);
        }
    }

    /** Keep the newest {@code keepLast} only. */
    public static RetentionPolicy keepLast(final int keepLast)
    {
        return new RetentionPolicy(keepLast, 0);
    }

    /**
     * From the configuration's terms: checkpoints every {@code everySteps}; keep every {@code keepEvery}-th of them
     * (0 = off), i.e. positive multiples of {@code keepEvery x everySteps}.
     */
    public static RetentionPolicy of(final int keepLast, final int keepEvery, final long everySteps)
    {
        return new RetentionPolicy(keepLast, (long) keepEvery * everySteps);
    }

    /** Steps to delete, oldest first, after {@code justPublished} was published among {@code publishedSteps}. */
    public List<Long> stepsToDelete(final Collection<Long> publishedSteps, final long justPublished)
    {
        final List<Long> delete = new ArrayList<>();
        int newestKept = 1;
        for (final long step : new TreeSet<>(publishedSteps).descendingSet())
        {
            if (step > justPublished)
            {
                delete.add(step);
            }
            else if (step < justPublished)
            {
                if (newestKept < keepLast)
                {
                    newestKept++;
                }
                else if (!keptForever(step))
                {
                    delete.add(step);
                }
            }
        }
        delete.sort(Long::compare);
        return delete;
    }

    private boolean keptForever(final long step)
    {
        return keepEverySteps > 0 && step > 0 && step % keepEverySteps == 0;
    }
}
