package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code baton config}: validates a job configuration and prints it, or prints the reference of all keys. */
@Command(name = "config", description = "Validate and print the effective job configuration, or the key reference.")
public final class ConfigCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Option(names = "--reference", description = "Print the Markdown reference of every key instead.")
    boolean reference;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        if (reference)
        {
            spec.commandLine().getOut().print(ConfigReference.markdown(ConfigDef.discover()));
            spec.commandLine().getOut().flush();
            return 0;
        }
        final BatonConfig loaded = config.load();
        spec.commandLine().getOut().println(loaded.render());
        for (final Map.Entry<String, String> derived : loaded.derived().entrySet())
        {
            spec.commandLine().getOut().println("# " + derived.getKey() + " = " + loaded.values().get(derived.getKey())
                + ": not set, " + derived.getValue());
        }
        spec.commandLine().getOut().println("# trajectory hash " + loaded.trajectoryHash());
        return 0;
    }
}
