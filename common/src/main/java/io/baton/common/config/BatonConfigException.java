package io.baton.common.config;

import java.util.List;

/**
 * The job configuration is invalid. Thrown before anything starts; the message lists every problem, each naming
 * the key, the bad value and what is allowed.
 */
public final class BatonConfigException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final List<String> errors;

    public BatonConfigException(final List<String> errors)
    {
        super("invalid configuration:\n  " + String.join("\n  ", errors));
        this.errors = List.copyOf(errors);
    }

    public List<String> errors()
    {
        return errors;
    }
}
