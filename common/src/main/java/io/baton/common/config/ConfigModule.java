package io.baton.common.config;

import java.util.List;

/**
 * A module's contribution to the configuration surface, found with {@link java.util.ServiceLoader} (registered in
 * {@code META-INF/services/io.baton.common.config.ConfigModule}). Each module has exactly one, next to its
 * {@code baton-reference.conf}, so whatever modules are on the class path, keys and defaults stay consistent.
 */
public interface ConfigModule
{
    /** The module's declared keys. */
    List<ConfigKey<?>> keys();

    /** Checks across keys (may name keys of modules this one depends on). */
    default List<ConfigDef.CrossCheck> crossChecks()
    {
        return List.of();
    }

    /** Keys whose unset value is computed from other keys (may name keys of modules this one depends on). */
    default List<ConfigDef.Derived<?>> derived()
    {
        return List.of();
    }
}
