package io.baton.trainer;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ShortcutType;

import java.util.Locale;

/** Maps the validated {@code model.*} and {@code train.seed} keys onto the zoo's {@link ModelOptions}. */
public final class ModelConfigs
{
    private ModelConfigs()
    {
    }

    /**
     * @param config validated job configuration.
     * @param input  {height, width, channels} from the data, or null for the architecture's default.
     * @param classes number of classes from the data, or null for the architecture's default.
     */
    public static ModelOptions modelOptions(final BatonConfig config, final int[] input, final Integer classes)
    {
        final ModelOptions.Builder builder = ModelOptions.builder(config.get(TrainerKeys.MODEL_ARCH));
        final String shortcut = config.get(TrainerKeys.MODEL_SHORTCUT);
        if (!"default".equals(shortcut))
        {
            builder.shortcut(ShortcutType.valueOf(shortcut.toUpperCase(Locale.ROOT)));
        }
        builder.zeroInitLastBnGamma(config.get(TrainerKeys.MODEL_ZERO_INIT_LAST_BN_GAMMA));
        if (config.get(TrainerKeys.MODEL_PRE_ACTIVATION))
        {
            builder.preActivation(true);
        }
        final double width = config.get(TrainerKeys.MODEL_WIDTH_MULTIPLIER);
        if (width != 1.0)
        {
            builder.widthMultiplier(width);
        }
        if (input != null)
        {
            builder.input(input[0], input[1], input[2]);
        }
        if (classes != null)
        {
            builder.numClasses(classes);
        }
        builder.seed(config.get(TrainerKeys.TRAIN_SEED));
        return builder.build();
    }
}
