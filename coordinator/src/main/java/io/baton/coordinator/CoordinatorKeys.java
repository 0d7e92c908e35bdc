package io.baton.coordinator;

import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigKey;
import io.baton.common.config.ConfigModule;
import io.baton.common.config.ConfigType;
import io.baton.coordinator.train.FaultPointSpec;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.syncbn.BnGroups;

import java.time.Duration;
import java.util.List;

import static io.baton.common.config.ConfigKey.nonNegativeInt;

/**
 * Configuration keys of the coordinator: where the Spark job runs, where a run writes, how progress is shown, how
 * failures are recovered.
 * Defaults and docs are in coordinator's {@code baton-reference.conf}.
 */
public final class CoordinatorKeys implements ConfigModule
{
    public static final ConfigKey<String> CLUSTER_MASTER = ConfigKey.of("cluster.master", ConfigType.STRING)
        .optional();
    public static final ConfigKey<String> CLUSTER_APP_NAME = ConfigKey.of("cluster.app-name", ConfigType.STRING)
        .check(v -> !v.isBlank(), "not blank");
    public static final ConfigKey<Boolean> CLUSTER_SPARK_UI = ConfigKey.of("cluster.spark-ui", ConfigType.BOOLEAN);
    public static final ConfigKey<Integer> CLUSTER_GPUS_PER_TASK =
        ConfigKey.of("cluster.gpus-per-task", ConfigType.INT).check(v -> v == 0 || v == 1, "0 or 1");
    public static final ConfigKey<Integer> CLUSTER_TASK_CPUS = ConfigKey.of("cluster.task-cpus", ConfigType.INT)
        .check(nonNegativeInt(), ">= 0 (0 = Spark's spark.task.cpus)");
    public static final ConfigKey<Duration> CLUSTER_SLOT_WAIT = ConfigKey.of("cluster.slot-wait", ConfigType.DURATION)
        .check(v -> !v.isNegative(), ">= 0");
    public static final ConfigKey<String> RUN_DIR = ConfigKey.of("run.dir", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a Hadoop FileSystem URI or local path");
    public static final ConfigKey<Duration> RUN_LOCK_STALE_AFTER =
        ConfigKey.of("run.lock-stale-after", ConfigType.DURATION).check(v -> v.toMillis() >= 1000, ">= 1s");
    public static final ConfigKey<Boolean> RUN_LOCK_UNSAFE_STORE =
        ConfigKey.of("run.lock-unsafe-store", ConfigType.BOOLEAN);
    public static final ConfigKey<Boolean> RUN_FINAL_EVALUATION =
        ConfigKey.of("run.final-evaluation", ConfigType.BOOLEAN);
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

    public static final ConfigKey<Integer> RECOVERY_MAX_RESTARTS =
        ConfigKey.of("recovery.max-restarts", ConfigType.INT).check(nonNegativeInt(), ">= 0");
    public static final ConfigKey<Duration> RECOVERY_BACKOFF = ConfigKey.of("recovery.backoff", ConfigType.DURATION)
        .check(v -> !v.isNegative(), ">= 0");
    public static final ConfigKey<Duration> RECOVERY_MAX_BACKOFF =
        ConfigKey.of("recovery.max-backoff", ConfigType.DURATION).check(v -> !v.isNegative(), ">= 0");
    public static final ConfigKey<Integer> RECOVERY_NAN_RETRIES =
        ConfigKey.of("recovery.nan-retries", ConfigType.INT).check(nonNegativeInt(), ">= 0");
    public static final ConfigKey<Double> RECOVERY_NAN_LR_FACTOR =
        ConfigKey.of("recovery.nan-lr-factor", ConfigType.DOUBLE).check(v -> v > 0 && v < 1, "0 < f < 1");
    public static final ConfigKey<Double> RECOVERY_HUGE_ACTIVATION =
        ConfigKey.of("recovery.huge-activation", ConfigType.DOUBLE).check(ConfigKey.positiveDouble(), "> 0");
    public static final ConfigKey<Integer> ELASTIC_MIN_REPLICAS =
        ConfigKey.of("elastic.min-replicas", ConfigType.INT).check(nonNegativeInt(), ">= 0 (0 = not elastic)");
    public static final ConfigKey<Integer> ELASTIC_REWARMUP_STEPS =
        ConfigKey.of("elastic.rewarmup-steps", ConfigType.INT).check(nonNegativeInt(), ">= 0");
    public static final ConfigKey<Long> DEBUG_INJECT_NAN_AT_STEP =
        ConfigKey.of("debug.inject-nan-at-step", ConfigType.LONG).check(v -> v >= -1, ">= -1 (-1 = off)");
    public static final ConfigKey<Integer> DEBUG_INJECT_NAN_TIMES =
        ConfigKey.of("debug.inject-nan-times", ConfigType.INT).check(ConfigKey.positiveInt(), "> 0");
    public static final ConfigKey<Long> DEBUG_FAIL_AT_STEP =
        ConfigKey.of("debug.fail-at-step", ConfigType.LONG).check(v -> v >= -1, ">= -1 (-1 = off)");
    public static final ConfigKey<String> DEBUG_FAULT_POINTS = ConfigKey.of("debug.fault-points", ConfigType.STRING)
        .check(v -> v.isBlank() || FaultPointSpec.parseAll(v) != null, "comma-separated PHASE[#N]@STEP[:RANK]");
    public static final ConfigKey<String> DEBUG_FAULT_POINT_DIR =
        ConfigKey.of("debug.fault-point-dir", ConfigType.STRING).optional();
    public static final ConfigKey<Duration> DEBUG_FAULT_POINT_PAUSE =
        ConfigKey.of("debug.fault-point-pause", ConfigType.DURATION).check(v -> !v.isNegative(), ">= 0");

    public static final List<ConfigKey<?>> ALL = List.of(
        CLUSTER_MASTER,
        CLUSTER_APP_NAME,
        CLUSTER_SPARK_UI,
        CLUSTER_GPUS_PER_TASK,
        CLUSTER_TASK_CPUS,
        CLUSTER_SLOT_WAIT,
        RUN_DIR,
        RUN_LOCK_STALE_AFTER,
        RUN_LOCK_UNSAFE_STORE,
        RUN_FINAL_EVALUATION,
        PROGRESS_INTERVAL,
        PREPARE_SHARD_SIZE,
        PREPARE_RESIZE_SHORTER_SIDE,
        PREPARE_JPEG_QUALITY,
        PREPARE_KEEP_PATHS,
        RECOVERY_MAX_RESTARTS,
        RECOVERY_BACKOFF,
        RECOVERY_MAX_BACKOFF,
        RECOVERY_NAN_RETRIES,
        RECOVERY_NAN_LR_FACTOR,
        RECOVERY_HUGE_ACTIVATION,
        ELASTIC_MIN_REPLICAS,
        ELASTIC_REWARMUP_STEPS,
        DEBUG_INJECT_NAN_AT_STEP,
        DEBUG_INJECT_NAN_TIMES,
        DEBUG_FAIL_AT_STEP,
        DEBUG_FAULT_POINTS,
        DEBUG_FAULT_POINT_DIR,
        DEBUG_FAULT_POINT_PAUSE);

    @Override
    public List<ConfigKey<?>> keys()
    {
        return ALL;
    }

    @Override
    public List<ConfigDef.CrossCheck> crossChecks()
    {
        return List.of((config, errors) ->
        {
            // An elastic stage keeps the number of SyncBatchNorm groups (ElasticPlan), so its floor must be a multiple.
            final int min = config.get(ELASTIC_MIN_REPLICAS);
            final int replicas = config.get(TrainerKeys.TRAIN_REPLICAS);
            final int group = config.get(TrainerKeys.SYNCBN_GROUP_SIZE);
            // A group size that does not divide train.replicas is TrainerKeys' error to report.
            if (min == 0 || min >= replicas || !config.get(TrainerKeys.MODEL_SYNCBN) || group == 0
                || replicas % group != 0)
            {
                return;
            }
            final int groups = BnGroups.groupCount(replicas, group);
            if (min % groups != 0)
            {
                errors.add(ELASTIC_MIN_REPLICAS.name() + " = " + min + " is not a multiple of the " + groups
                    + " SyncBatchNorm groups (" + TrainerKeys.TRAIN_REPLICAS.name() + " = " + replicas + " / "
                    + TrainerKeys.SYNCBN_GROUP_SIZE.name() + " = " + group + "), which an elastic stage keeps; "
                    + "allowed: a multiple of " + groups);
            }
        });
    }
}
