package io.baton.coordinator;

import io.baton.common.config.ConfigKey;
import io.baton.common.config.ConfigModule;
import io.baton.common.config.ConfigType;

import java.util.List;

import static io.baton.common.config.ConfigKey.nonNegativeDouble;
import static io.baton.common.config.ConfigKey.nonNegativeInt;
import static io.baton.common.config.ConfigKey.positiveDouble;

/**
 * Configuration keys of day-to-day operations: the Prometheus endpoint, scheduled retraining and its promotion
 * gate. Defaults and docs are in coordinator's {@code baton-reference.conf}.
 */
public final class OpsKeys implements ConfigModule
{
    public static final ConfigKey<Integer> METRICS_PORT = ConfigKey.of("metrics.port", ConfigType.INT)
        .check(v -> v >= -1 && v <= 65535, "-1 (off), 0 (ephemeral) or a port 1..65535");
    public static final ConfigKey<String> METRICS_BIND_ADDRESS =
        ConfigKey.of("metrics.bind-address", ConfigType.STRING).check(v -> !v.isBlank(), "a host name or address");

    public static final ConfigKey<Integer> RETRAIN_EPOCHS = ConfigKey.of("retrain.epochs", ConfigType.INT)
        .check(nonNegativeInt(), ">= 0 (0 = no weight updates, e.g. BN recalibration only)");
    public static final ConfigKey<Double> RETRAIN_BASE_LR = ConfigKey.of("retrain.base-lr", ConfigType.DOUBLE)
        .check(positiveDouble(), "> 0");
    public static final ConfigKey<String> RETRAIN_SCHEDULE =
        ConfigKey.of("retrain.schedule", ConfigType.oneOf("cosine", "constant"));
    public static final ConfigKey<Integer> RETRAIN_RECALIBRATE_BN_BATCHES =
        ConfigKey.of("retrain.recalibrate-bn-batches", ConfigType.INT).check(nonNegativeInt(), ">= 0 (0 = off)");
    public static final ConfigKey<String> RETRAIN_MODELS_DIR = ConfigKey.of("retrain.models-dir", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a directory: a local path or a Hadoop FS URI");
    public static final ConfigKey<Double> RETRAIN_PROMOTION_TOLERANCE =
        ConfigKey.of("retrain.promotion-tolerance", ConfigType.DOUBLE).check(nonNegativeDouble(), ">= 0");

    public static final List<ConfigKey<?>> ALL = List.of(
        METRICS_PORT,
        METRICS_BIND_ADDRESS,
        RETRAIN_EPOCHS,
        RETRAIN_BASE_LR,
        RETRAIN_SCHEDULE,
        RETRAIN_RECALIBRATE_BN_BATCHES,
        RETRAIN_MODELS_DIR,
        RETRAIN_PROMOTION_TOLERANCE);

    @Override
    public List<ConfigKey<?>> keys()
    {
        return ALL;
    }
}
