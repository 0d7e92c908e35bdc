package io.baton.coordinator;

import io.baton.common.config.ConfigKey;
import io.baton.common.config.ConfigModule;
import io.baton.common.config.ConfigType;

import java.time.Duration;
import java.util.List;

import static io.baton.common.config.ConfigKey.nonNegativeInt;

/**
 * Configuration keys of the coordinator: where the Spark job runs, where a run writes, how progress is shown.
 * Defaults and docs are in coordinator's {@code baton-reference.conf}.
 */
public final class CoordinatorKeys implements ConfigModule
{
    public static final ConfigKey<String> CLUSTER_MASTER = ConfigKey.of("cluster.master", ConfigType.STRING)
        .optional();
    public static final ConfigKey<String> CLUSTER_APP_NAME = ConfigKey.of("cluster.app-name", ConfigType.STRING)
        .check(v -> !v.isBlank(), "not blank");
    public static final ConfigKey<Integer> CLUSTER_GPUS_PER_TASK =
        ConfigKey.of("cluster.gpus-per-task", ConfigType.INT).check(v -> v == 0 || v == 1, "0 or 1");
    public static final ConfigKey<Integer> CLUSTER_TASK_CPUS = ConfigKey.of("cluster.task-cpus", ConfigType.INT)
        .check(nonNegativeInt(), ">= 0 (0 = Spark's spark.task.cpus)");
    public static final ConfigKey<Duration> CLUSTER_SLOT_WAIT = ConfigKey.of("cluster.slot-wait", ConfigType.DURATION)
        .check(v -> !v.isNegative(), ">= 0");
    public static final ConfigKey<String> RUN_DIR = ConfigKey.of("run.dir", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a Hadoop FileSystem URI or local path");
    public static final ConfigKey<Duration> PROGRESS_INTERVAL =
        ConfigKey.of("progress.interval", ConfigType.DURATION).check(v -> !v.isNegative() && !v.isZero(), "> 0");

    public static final ConfigKey<Long> PREPARE_SHARD_SIZE = ConfigKey.of("prepare.shard-size", ConfigType.BYTES)
        .check(v -> v > 0, "> 0");
    public static final ConfigKey<Integer> PREPARE_RESIZE_SHORTER_SIDE =
        ConfigKey.of("prepare.resize-shorter-side", ConfigType.INT).check(nonNegativeInt(), ">= 0 (0 = keep)");
    public static final ConfigKey<Integer> PREPARE_JPEG_QUALITY = ConfigKey.of("prepare.jpeg-quality", ConfigType.INT)
        .check(v -> v >= 1 && v <= 100, "1..100");
    public static final ConfigKey<Boolean> PREPARE_KEEP_PATHS =
        ConfigKey.of("prepare.keep-paths", ConfigType.BOOLEAN);

    public static final List<ConfigKey<?>> ALL = List.of(
        CLUSTER_MASTER,
        CLUSTER_APP_NAME,
        CLUSTER_GPUS_PER_TASK,
        CLUSTER_TASK_CPUS,
        CLUSTER_SLOT_WAIT,
        RUN_DIR,
        PROGRESS_INTERVAL,
        PREPARE_SHARD_SIZE,
        PREPARE_RESIZE_SHORTER_SIDE,
        PREPARE_JPEG_QUALITY,
        PREPARE_KEEP_PATHS);

    @Override
    public List<ConfigKey<?>> keys()
    {
        return ALL;
    }
}
