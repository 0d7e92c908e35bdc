package io.baton.coordinator.train;

/**
 * What {@code baton train --resume} asked for.
 *
 * @param mode  auto (newest valid checkpoint of the run directory, if any), never (start afresh), or a path.
 * @param path  for PATH: a checkpoint directory ({@code .../checkpoints/ckpt-<step>}).
 * @param force resume even when trajectory keys of the configuration changed.
 */
public record ResumeRequest(Mode mode, String path, boolean force)
{
    public enum Mode
    {
        AUTO,
        NEVER,
        PATH
    }

    /** {@code auto}, {@code never} or a checkpoint path. */
    public static ResumeRequest parse(final String value, final boolean force)
    {
        if (value == null || value.isBlank() || "auto".equals(value))
        {
            return new ResumeRequest(Mode.AUTO, null, force);
        }
        if ("never".equals(value))
        {
            return new ResumeRequest(Mode.NEVER, null, force);
        }
        return new ResumeRequest(Mode.PATH, value, force);
    }

    public static ResumeRequest auto()
    {
        return new ResumeRequest(Mode.AUTO, null, false);
    }
}
