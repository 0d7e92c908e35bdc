package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The job configuration options shared by every command: a HOCON job file and {@code --set key=value}. */
public final class ConfigOptions
{
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Job configuration (HOCON), e.g. conf/demo.conf.")
    Path configFile;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one key (repeatable); wins over --config.")
    List<String> overrides = new ArrayList<>();

    /** Loads and validates the configuration; throws {@code BatonConfigException} listing every problem. */
    public BatonConfig load()
    {
        return new ConfigLoader(ConfigDef.discover()).load(configFile, overrides);
    }

    /**
     * Loads a run's recorded configuration (HOCON text) as the base, then the user's overrides and the extras, so
     * a command on an existing run sees that run's settings.
     */
    public BatonConfig loadWithBase(final String baseHocon, final List<String> extra)
    {
        final List<String> all = new ArrayList<>(overrides);
        all.addAll(extra);
        return new ConfigLoader(ConfigDef.discover()).loadText(baseHocon, all);
    }

    /** Loads with extra overrides that win over the user's (used by commands that map flags to keys). */
    public BatonConfig load(final List<String> extra)
    {
        final List<String> all = new ArrayList<>(overrides);
        all.addAll(extra);
        return new ConfigLoader(ConfigDef.discover()).load(configFile, all);
    }
}
