package io.baton.trainer;

import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigKey;
import io.baton.common.config.ConfigModule;
import io.baton.common.config.ConfigType;
import io.baton.trainer.backend.NativeRuntime;
import io.baton.trainer.model.Architecture;
import io.baton.trainer.schedule.LrSchedule;

import java.util.List;

import static io.baton.common.config.ConfigKey.inRange;
import static io.baton.common.config.ConfigKey.nonNegativeDouble;
import static io.baton.common.config.ConfigKey.positiveDouble;
import static io.baton.common.config.ConfigKey.positiveInt;

/**
 * Configuration keys of the trainer: model, replicas and batch, the large-batch optimisation recipe. Defaults and
 * docs are in trainer's {@code baton-reference.conf}; cross-key checks are below.
 */
public final class TrainerKeys implements ConfigModule
{
    public static final ConfigKey<String> MODEL_ARCH = ConfigKey.of("model.arch", ConfigType.STRING)
        .check(TrainerKeys::isKnownArch, "one of " + Architecture.knownNames() + " or wrn-<depth>-<k>")
        .trajectory();
    public static final ConfigKey<String> MODEL_SHORTCUT =
        ConfigKey.of("model.shortcut", ConfigType.oneOf("default", "a", "b", "c")).trajectory();
    public static final ConfigKey<Boolean> MODEL_ZERO_INIT_LAST_BN_GAMMA =
        ConfigKey.of("model.zero-init-last-bn-gamma", ConfigType.BOOLEAN).trajectory();
    public static final ConfigKey<Boolean> MODEL_PRE_ACTIVATION =
        ConfigKey.of("model.pre-activation", ConfigType.BOOLEAN).trajectory();
    public static final ConfigKey<Double> MODEL_WIDTH_MULTIPLIER =
        ConfigKey.of("model.width-multiplier", ConfigType.DOUBLE).check(inRange(0.0625, 64), "0.0625..64")
            .trajectory();
    public static final ConfigKey<Boolean> MODEL_SYNCBN = ConfigKey.of("model.syncbn", ConfigType.BOOLEAN)
        .trajectory();
    // Not a trajectory key: the fast layers compute DL4J's results bit for bit (ReplicaConvolutionLayerTest)
    public static final ConfigKey<Boolean> MODEL_FAST_LAYERS = ConfigKey.of("model.fast-layers", ConfigType.BOOLEAN);
    // A trajectory key: oneDNN's direct convolutions round differently from libnd4j's (Winograd where it picks it)
    public static final ConfigKey<String> MODEL_CONV_ENGINE =
        ConfigKey.of("model.conv-engine", ConfigType.oneOf("onednn", "dl4j")).trajectory();
    public static final ConfigKey<String> MODEL_GRAPH = ConfigKey.of("model.graph", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a Hadoop FileSystem URI or local path of a DL4J model zip").optional();
    public static final ConfigKey<String> MODEL_GRAPH_IDENTITY =
        ConfigKey.of("model.graph-identity", ConfigType.STRING).trajectory();
    public static final ConfigKey<Integer> SYNCBN_GROUP_SIZE = ConfigKey.of("syncbn.group-size", ConfigType.INT)
        .check(v -> v >= 0, ">= 0 (0 = all replicas)"); // the trajectory depends on the group count: ConfigDiff

    public static final ConfigKey<Integer> TRAIN_REPLICAS = ConfigKey.of("train.replicas", ConfigType.INT)
        .check(positiveInt(), "> 0");
    public static final ConfigKey<Integer> TRAIN_GLOBAL_BATCH = ConfigKey.of("train.global-batch", ConfigType.INT)
        .check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<Integer> TRAIN_EPOCHS = ConfigKey.of("train.epochs", ConfigType.INT)
        .check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<Long> TRAIN_SEED = ConfigKey.of("train.seed", ConfigType.LONG).trajectory();
    public static final ConfigKey<Boolean> TRAIN_DROP_LAST = ConfigKey.of("train.drop-last", ConfigType.BOOLEAN)
        .trajectory();
    public static final ConfigKey<Integer> TRAIN_THREADS_PER_REPLICA =
        ConfigKey.of("train.threads-per-replica", ConfigType.INT).check(v -> v >= 0, ">= 0 (0 = auto)");
    public static final ConfigKey<Boolean> TRAIN_OVERLAP_ALLREDUCE =
        ConfigKey.of("train.overlap-allreduce", ConfigType.BOOLEAN);
    public static final ConfigKey<Long> TRAIN_ALLREDUCE_BUCKET =
        ConfigKey.of("train.allreduce-bucket", ConfigType.BYTES).check(v -> v >= 4 && v <= (1L << 31), "4 B..2 GiB");

    public static final ConfigKey<Double> OPTIM_BASE_LR = ConfigKey.of("optim.base-lr", ConfigType.DOUBLE)
        .check(positiveDouble(), "> 0").trajectory();
    public static final ConfigKey<Integer> OPTIM_BASE_BATCH = ConfigKey.of("optim.base-batch", ConfigType.INT)
        .check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<Double> OPTIM_MOMENTUM = ConfigKey.of("optim.momentum", ConfigType.DOUBLE)
        .check(v -> v >= 0 && v < 1, "0 <= m < 1").trajectory();
    public static final ConfigKey<Boolean> OPTIM_NESTEROV = ConfigKey.of("optim.nesterov", ConfigType.BOOLEAN)
        .trajectory();
    public static final ConfigKey<Double> OPTIM_WEIGHT_DECAY = ConfigKey.of("optim.weight-decay", ConfigType.DOUBLE)
        .check(nonNegativeDouble(), ">= 0").trajectory();
    public static final ConfigKey<Double> OPTIM_WARMUP_EPOCHS =
        ConfigKey.of("optim.warmup-epochs", ConfigType.DOUBLE).check(nonNegativeDouble(), ">= 0").trajectory();
    public static final ConfigKey<Double> OPTIM_WARMUP_START_FACTOR =
        ConfigKey.of("optim.warmup-start-factor", ConfigType.DOUBLE).check(inRange(0, 1), "0..1").trajectory();
    public static final ConfigKey<String> OPTIM_SCHEDULE =
        ConfigKey.of("optim.schedule", ConfigType.oneOf("step", "cosine", "constant")).trajectory();
    /** Null in the reference: derived from {@link #OPTIM_DECAY_FRACTIONS} ({@link #derived()}). */
    public static final ConfigKey<List<Integer>> OPTIM_DECAY_EPOCHS =
        ConfigKey.of("optim.decay-epochs", ConfigType.INT_LIST)
            .check(TrainerKeys::strictlyIncreasingPositive, "strictly increasing epochs > 0").trajectory();
    /** Not a trajectory key: what it changes, it changes through optim.decay-epochs. */
    public static final ConfigKey<List<Double>> OPTIM_DECAY_FRACTIONS =
        ConfigKey.of("optim.decay-fractions", ConfigType.DOUBLE_LIST)
            .check(TrainerKeys::increasingFractions, "strictly increasing, each 0 < f < 1");
    public static final ConfigKey<Double> OPTIM_DECAY_FACTOR = ConfigKey.of("optim.decay-factor", ConfigType.DOUBLE)
        .check(v -> v > 0 && v <= 1, "0 < f <= 1").trajectory();
    public static final ConfigKey<Boolean> OPTIM_LARS = ConfigKey.of("optim.lars", ConfigType.BOOLEAN).trajectory();
    public static final ConfigKey<Double> OPTIM_LARS_TRUST =
        ConfigKey.of("optim.lars-trust-coefficient", ConfigType.DOUBLE).check(positiveDouble(), "> 0").trajectory();
    public static final ConfigKey<Double> OPTIM_LABEL_SMOOTHING =
        ConfigKey.of("optim.label-smoothing", ConfigType.DOUBLE).check(v -> v >= 0 && v < 1, "0 <= s < 1")
            .trajectory();
    public static final ConfigKey<Double> OPTIM_MAX_GRAD_NORM =
        ConfigKey.of("optim.max-grad-norm", ConfigType.DOUBLE).check(nonNegativeDouble(), ">= 0 (0 = off)")
            .trajectory();

    public static final ConfigKey<String> DATA_PATH = ConfigKey.of("data.path", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a Hadoop FileSystem URI or local path").optional().trajectory();
    public static final ConfigKey<Integer> DATA_SYNTHETIC_SAMPLES =
        ConfigKey.of("data.synthetic-samples", ConfigType.INT).check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<Integer> DATA_SYNTHETIC_VAL_SAMPLES =
        ConfigKey.of("data.synthetic-val-samples", ConfigType.INT).check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<Integer> DATA_SYNTHETIC_CLASSES =
        ConfigKey.of("data.synthetic-classes", ConfigType.INT).check(v -> v >= 2, ">= 2").trajectory();
    public static final ConfigKey<String> DATA_IDENTITY = ConfigKey.of("data.identity", ConfigType.STRING)
        .trajectory();
    /** Null in the reference: derived from {@link #MODEL_ARCH} ({@link #derived()}). */
    public static final ConfigKey<Integer> DATA_IMAGE_SIZE = ConfigKey.of("data.image-size", ConfigType.INT)
        .check(positiveInt(), "> 0").trajectory();
    public static final ConfigKey<List<Double>> DATA_AUGMENT_SCALE =
        ConfigKey.of("data.augment.scale", ConfigType.DOUBLE_LIST)
            .check(v -> v.size() == 2 && v.get(0) > 0 && v.get(0) <= v.get(1) && v.get(1) <= 1,
                "[min, max] with 0 < min <= max <= 1")
            .trajectory();
    public static final ConfigKey<List<Double>> DATA_AUGMENT_RATIO =
        ConfigKey.of("data.augment.ratio", ConfigType.DOUBLE_LIST)
            .check(v -> v.size() == 2 && v.get(0) > 0 && v.get(0) <= v.get(1) && Double.isFinite(v.get(1)),
                "[min, max] with 0 < min <= max")
            .trajectory();
    public static final ConfigKey<Integer> DATA_AUGMENT_PAD_CROP =
        ConfigKey.of("data.augment.pad-crop", ConfigType.INT).check(v -> v >= 0, ">= 0 (0 = off)").trajectory();
    public static final ConfigKey<Boolean> DATA_AUGMENT_FLIP =
        ConfigKey.of("data.augment.flip", ConfigType.BOOLEAN).trajectory();
    public static final ConfigKey<Double> DATA_EVAL_RESIZE_RATIO =
        ConfigKey.of("data.eval-resize-ratio", ConfigType.DOUBLE)
            .check(v -> v >= 1 && Double.isFinite(v), ">= 1 (null = none)").optional().trajectory();
    public static final ConfigKey<List<Double>> DATA_NORMALISE_MEAN =
        ConfigKey.of("data.normalise.mean", ConfigType.DOUBLE_LIST)
            .check(v -> v.size() == 3 && v.stream().allMatch(Double::isFinite), "3 finite values (R, G, B)")
            .trajectory();
    public static final ConfigKey<List<Double>> DATA_NORMALISE_STD =
        ConfigKey.of("data.normalise.std", ConfigType.DOUBLE_LIST)
            .check(v -> v.size() == 3 && v.stream().allMatch(x -> x > 0 && Double.isFinite(x)),
                "3 values > 0 (R, G, B)")
            .trajectory();
    public static final ConfigKey<Integer> DATA_LOADER_THREADS = ConfigKey.of("data.loader-threads", ConfigType.INT)
        .check(positiveInt(), "> 0");
    public static final ConfigKey<Integer> DATA_PREFETCH_BATCHES =
        ConfigKey.of("data.prefetch-batches", ConfigType.INT).check(v -> v >= 0, ">= 0");
    public static final ConfigKey<String> DATA_CACHE_DIR = ConfigKey.of("data.cache-dir", ConfigType.STRING)
        .optional();
    public static final ConfigKey<Long> DATA_CACHE_SIZE = ConfigKey.of("data.cache-size", ConfigType.BYTES)
        .check(v -> v >= 0, ">= 0 (0 = no local copies)");
    public static final ConfigKey<String> DATA_JPEG_DECODER =
        ConfigKey.of("data.jpeg-decoder", ConfigType.oneOf("turbo", "imageio", "twelvemonkeys"));
    public static final ConfigKey<Boolean> DATA_JPEG_DCT_SCALING =
        ConfigKey.of("data.jpeg-dct-scaling", ConfigType.BOOLEAN).trajectory();
    public static final ConfigKey<String> DATA_TURBOJPEG_JAR = ConfigKey.of("data.turbojpeg-jar", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a path to turbojpeg.jar");

    public static final ConfigKey<Integer> HEALTH_EVERY = ConfigKey.of("health.every", ConfigType.INT)
        .check(v -> v >= 0, ">= 0 (0 = off)");
    public static final ConfigKey<Double> HEALTH_MAX_ACTIVATION =
        ConfigKey.of("health.max-activation", ConfigType.DOUBLE).check(positiveDouble(), "> 0");
    public static final ConfigKey<Double> HEALTH_MAX_DEAD_FRACTION =
        ConfigKey.of("health.max-dead-fraction", ConfigType.DOUBLE).check(inRange(0, 1), "0..1");
    public static final ConfigKey<Double> HEALTH_MAX_STAGE_GRAD_NORM =
        ConfigKey.of("health.max-stage-grad-norm", ConfigType.DOUBLE).check(nonNegativeDouble(), ">= 0 (0 = off)");
    public static final ConfigKey<Double> HEALTH_MAX_BN_MEAN =
        ConfigKey.of("health.max-bn-mean", ConfigType.DOUBLE).check(positiveDouble(), "> 0");

    public static final List<ConfigKey<?>> ALL = List.of(
        MODEL_ARCH,
        MODEL_SHORTCUT,
        MODEL_ZERO_INIT_LAST_BN_GAMMA,
        MODEL_PRE_ACTIVATION,
        MODEL_WIDTH_MULTIPLIER,
        MODEL_SYNCBN,
        MODEL_FAST_LAYERS,
        MODEL_CONV_ENGINE,
        MODEL_GRAPH,
        MODEL_GRAPH_IDENTITY,
        SYNCBN_GROUP_SIZE,
        TRAIN_REPLICAS,
        TRAIN_GLOBAL_BATCH,
        TRAIN_EPOCHS,
        TRAIN_SEED,
        TRAIN_DROP_LAST,
        TRAIN_THREADS_PER_REPLICA,
        TRAIN_OVERLAP_ALLREDUCE,
        TRAIN_ALLREDUCE_BUCKET,
        OPTIM_BASE_LR,
        OPTIM_BASE_BATCH,
        OPTIM_MOMENTUM,
        OPTIM_NESTEROV,
        OPTIM_WEIGHT_DECAY,
        OPTIM_WARMUP_EPOCHS,
        OPTIM_WARMUP_START_FACTOR,
        OPTIM_SCHEDULE,
        OPTIM_DECAY_EPOCHS,
        OPTIM_DECAY_FRACTIONS,
        OPTIM_DECAY_FACTOR,
        OPTIM_LARS,
        OPTIM_LARS_TRUST,
        OPTIM_LABEL_SMOOTHING,
        OPTIM_MAX_GRAD_NORM,
        DATA_PATH,
        DATA_SYNTHETIC_SAMPLES,
        DATA_SYNTHETIC_VAL_SAMPLES,
        DATA_SYNTHETIC_CLASSES,
        DATA_IDENTITY,
        DATA_IMAGE_SIZE,
        DATA_AUGMENT_SCALE,
        DATA_AUGMENT_RATIO,
        DATA_AUGMENT_PAD_CROP,
        DATA_AUGMENT_FLIP,
        DATA_EVAL_RESIZE_RATIO,
        DATA_NORMALISE_MEAN,
        DATA_NORMALISE_STD,
        DATA_LOADER_THREADS,
        DATA_PREFETCH_BATCHES,
        DATA_CACHE_DIR,
        DATA_CACHE_SIZE,
        DATA_JPEG_DECODER,
        DATA_JPEG_DCT_SCALING,
        DATA_TURBOJPEG_JAR,
        HEALTH_EVERY,
        HEALTH_MAX_ACTIVATION,
        HEALTH_MAX_DEAD_FRACTION,
        HEALTH_MAX_STAGE_GRAD_NORM,
        HEALTH_MAX_BN_MEAN);

    @Override
    public List<ConfigKey<?>> keys()
    {
        return ALL;
    }

    @Override
    public List<ConfigDef.CrossCheck> crossChecks()
    {
        return List.of(
            (config, errors) ->
            {
                final int replicas = config.get(TRAIN_REPLICAS);
                final int batch = config.get(TRAIN_GLOBAL_BATCH);
                if (batch % replicas != 0)
                {
                    errors.add(TRAIN_GLOBAL_BATCH.name() + " = " + batch + " is not divisible by "
                        + TRAIN_REPLICAS.name() + " = " + replicas + "; allowed: a multiple of " + replicas
                        + " (e.g. " + (batch / replicas + 1) * replicas + ")");
                }
            },
            (config, errors) ->
            {
                final double warmup = config.get(OPTIM_WARMUP_EPOCHS);
                final int epochs = config.get(TRAIN_EPOCHS);
                if (warmup >= epochs)
                {
                    errors.add(OPTIM_WARMUP_EPOCHS.name() + " = " + warmup + " is not shorter than training ("
                        + TRAIN_EPOCHS.name() + " = " + epochs + "); allowed: < " + epochs);
                }
            },
            (config, errors) ->
            {
                final int epochs = config.get(TRAIN_EPOCHS);
                if ("step".equals(config.get(OPTIM_SCHEDULE)))
                {
                    for (final int e : config.get(OPTIM_DECAY_EPOCHS))
                    {
                        if (e >= epochs)
                        {
                            errors.add(OPTIM_DECAY_EPOCHS.name() + " = " + config.get(OPTIM_DECAY_EPOCHS)
                                + " has epoch " + e + " not before the end of training (" + TRAIN_EPOCHS.name()
                                + " = " + epochs + "); allowed: epochs < " + epochs);
                            break;
                        }
                    }
                }
            },
            (config, errors) ->
            {
                // LrSchedule's rule: decay boundaries lie at or after the end of warmup. Not repeated when warmup
                // itself is already refused for outlasting training.
                final double warmup = config.get(OPTIM_WARMUP_EPOCHS);
                if ("step".equals(config.get(OPTIM_SCHEDULE)) && warmup < config.get(TRAIN_EPOCHS))
                {
                    for (final int e : config.get(OPTIM_DECAY_EPOCHS))
                    {
                        if (e < warmup)
                        {
                            errors.add(OPTIM_DECAY_EPOCHS.name() + " = " + config.get(OPTIM_DECAY_EPOCHS)
                                + " has epoch " + e + " before the end of warmup (" + OPTIM_WARMUP_EPOCHS.name()
                                + " = " + warmup + "); allowed: epochs >= " + warmup);
                            break;
                        }
                    }
                }
            },
            (config, errors) ->
            {
                final int group = config.get(SYNCBN_GROUP_SIZE);
                final int replicas = config.get(TRAIN_REPLICAS);
                if (config.get(MODEL_SYNCBN) && group > 0 && replicas % group != 0)
                {
                    errors.add(SYNCBN_GROUP_SIZE.name() + " = " + group + " does not divide "
                        + TRAIN_REPLICAS.name() + " = " + replicas + "; allowed: 0 or a divisor of " + replicas);
                }
            },
            (config, errors) ->
            {
                if (config.get(DATA_JPEG_DCT_SCALING) && !"turbo".equals(config.get(DATA_JPEG_DECODER)))
                {
                    errors.add(DATA_JPEG_DCT_SCALING.name() + " = true needs " + DATA_JPEG_DECODER.name()
                        + " = turbo (only libjpeg-turbo decodes in the DCT domain), not " + config.get(DATA_JPEG_DECODER)
                        + "; allowed: " + DATA_JPEG_DCT_SCALING.name() + " = false, or " + DATA_JPEG_DECODER.name()
                        + " = turbo");
                }
            },
            (config, errors) ->
            {
                if (config.get(TRAIN_OVERLAP_ALLREDUCE) && !config.get(MODEL_SYNCBN))
                {
                    errors.add(TRAIN_OVERLAP_ALLREDUCE.name() + " = true needs " + MODEL_SYNCBN.name()
                        + " = true: the buckets start where SyncBatchNorm's backward waits; allowed: "
                        + TRAIN_OVERLAP_ALLREDUCE.name() + " = false, or " + MODEL_SYNCBN.name() + " = true");
                }
                if (config.get(TRAIN_OVERLAP_ALLREDUCE) && !"cpu".equals(NativeRuntime.backend()))
                {
                    // Its thread reads buckets from host memory while the device still writes the rest of the
                    // gradient: a GPU needs device-side bucket copies, which are not built.
                    errors.add(TRAIN_OVERLAP_ALLREDUCE.name() + " = true is supported on the cpu backend only, this "
                        + "build uses " + NativeRuntime.backend() + "; allowed: false");
                }
            });
    }

    /**
     * Defaults that depend on other keys, resolved when a configuration is loaded so run.conf, checkpoints and the
     * trajectory hash carry absolute values: a default run of 10 epochs decays at [5, 8] as when the default was
     * written out, and shorter runs still decay inside the run.
     */
    @Override
    public List<ConfigDef.Derived<?>> derived()
    {
        return List.of(
            new ConfigDef.Derived<>(OPTIM_DECAY_EPOCHS, List.of(OPTIM_DECAY_FRACTIONS, TRAIN_EPOCHS,
                OPTIM_WARMUP_EPOCHS), config -> LrSchedule.decayEpochsAt(config.get(OPTIM_DECAY_FRACTIONS),
                config.get(TRAIN_EPOCHS), config.get(OPTIM_WARMUP_EPOCHS))),
            new ConfigDef.Derived<>(DATA_IMAGE_SIZE, List.of(MODEL_ARCH),
                config -> Architecture.named(config.get(MODEL_ARCH)).defaultImageSize()));
    }

    private static boolean isKnownArch(final String name)
    {
        try
        {
            Architecture.named(name);
            return true;
        }
        catch (final IllegalArgumentException ex)
        {
            return false;
        }
    }

    private static boolean increasingFractions(final List<Double> fractions)
    {
        double previous = 0;
        for (final double f : fractions)
        {
            if (!(f > previous && f < 1))
            {
                return false;
            }
            previous = f;
        }
        return true;
    }

    private static boolean strictlyIncreasingPositive(final List<Integer> epochs)
    {
        int previous = 0;
        for (final int e : epochs)
        {
            if (e <= previous)
            {
                return false;
            }
            previous = e;
        }
        return true;
    }
}
