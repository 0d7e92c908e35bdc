package io.baton.coordinator.train;

import io.baton.common.checkpoint.CheckpointStore;
import io.baton.common.store.HadoopConf;
import io.baton.coordinator.lock.DirectoryLock;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * What {@code baton train --dry-run} says about the run directory: new or existing, locked or not, its checkpoints,
 * and where training would start given {@code --resume}. Reads only: the directory, its lock and the checkpoint
 * store's listing.
 *
 * <p>Threading: stateless; the caller's thread.
 */
final class RunDirectoryPreview
{
    private RunDirectoryPreview()
    {
    }

    /**
     * For {@code --dry-run}: what training would do with the run directory at {@code location}, read without changing
     * anything (the checkpoints are listed, not verified; a corrupt newest one would be skipped then).
     */
    static String describe(final String location, final ResumeRequest resume)
    {
        final RunDirectory run = new RunDirectory(location);
        try
        {
            if (!run.fileSystemExists())
            {
                return "run directory " + location + ": new; training starts from the initial weights";
            }
            final StringBuilder text = new StringBuilder("run directory " + location + ": ");
            final String holder = DirectoryLock.holder(run.fileSystem(), new Path(run.uri()));
            if (holder != null)
            {
                text.append("locked by ").append(holder).append(" (refused unless that job is gone); ");
            }
            final List<Long> steps;
            try (CheckpointStore store = CheckpointStore.openReadOnly(run.path(RunDirectory.CHECKPOINTS).toString(),
                HadoopConf.fresh()))
            {
                steps = store.list();
            }
            final String found = steps.isEmpty() ? "no checkpoint" : steps.size() + " checkpoint(s), newest of step "
                + steps.get(steps.size() - 1);
            switch (resume.mode())
            {
                case NEVER:
                    return text + found + "; --resume never would move the earlier run into before-<ms>/ and start "
                        + "from the initial weights";
                case PATH:
                    return text + found + "; would resume from " + resume.path();
                case AUTO:
                default:
                    return text + found + (steps.isEmpty() ? "; training starts from the initial weights"
                        : "; would resume from the newest valid one");
            }
        }
        catch (final IOException | UncheckedIOException ex)
        {
            return "run directory " + location + ": cannot be read (" + ex.getMessage() + ")";
        }
    }
}
