package io.baton.coordinator.train;

import java.util.List;

/** A checkpoint was not resumed because the configuration's trajectory keys changed since it was written. */
public final class ResumeRefusedException extends IllegalArgumentException
{
    private static final long serialVersionUID = 1L;

    private final List<ConfigDiff.Difference> differences;

    public ResumeRefusedException(final String checkpoint, final List<ConfigDiff.Difference> differences)
    {
        super("refusing to resume " + checkpoint + ": the configuration changes the training trajectory; differing "
            + "keys (checkpoint -> now): " + differences + ". Restore them, pass --force to resume anyway, or "
            + "--resume never to start afresh");
        this.differences = List.copyOf(differences);
    }

    public List<ConfigDiff.Difference> differences()
    {
        return differences;
    }
}
