package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.evaluate.EvaluateJob;
import io.baton.trainer.TrainerKeys;
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

    /**
     * Loads the configuration of a command on an existing model ({@code evaluate}, {@code retrain}): without
     * {@code --config}, the model's run configuration is the base, so the job sees the settings it was trained with;
     * and unless the user gave an image size, the one the model was exported for. A 32x32 model run at 224x224 (a
     * configuration's size, or the one derived from its architecture) would take ~50x the memory and score nonsense,
     * so a {@code --config} whose image size is not the model's is refused unless {@code --set data.image-size} says
     * which size is meant.
     */
    public BatonConfig loadForModel(final EvaluateJob.Target target, final List<String> extra)
    {
        final List<String> all = new ArrayList<>(extra);
        final boolean sizeSet = overrides.stream().anyMatch(o -> o.trim().startsWith(TrainerKeys.DATA_IMAGE_SIZE.name()));
        if (target.imageSize() != null && configFile == null && !sizeSet)
        {
            all.add(0, TrainerKeys.DATA_IMAGE_SIZE.name() + "=" + target.imageSize());
        }
        final BatonConfig loaded = target.runConfig() != null && configFile == null
            ? loadWithBase(target.runConfig(), all) : load(all);
        final Integer trained = target.trainedImageSize();
        final int size = loaded.get(TrainerKeys.DATA_IMAGE_SIZE);
        if (configFile != null && !sizeSet && trained != null && trained != size)
        {
            final String derived = loaded.derived().get(TrainerKeys.DATA_IMAGE_SIZE.name());
            throw new IllegalArgumentException(TrainerKeys.DATA_IMAGE_SIZE.name() + " = " + size + " (from "
                + configFile + (derived == null ? "" : ", " + derived) + ") but the model " + target.modelUri() + " was made for " + trained + "x" + trained
                + " images; add --set " + TrainerKeys.DATA_IMAGE_SIZE.name() + "=" + trained + " (or another size, "
                + "to change it on purpose)");
        }
        return loaded;
    }

    /** Loads with extra overrides that win over the user's (used by commands that map flags to keys). */
    public BatonConfig load(final List<String> extra)
    {
        final List<String> all = new ArrayList<>(overrides);
        all.addAll(extra);
        return new ConfigLoader(ConfigDef.discover()).load(configFile, all);
    }
}
