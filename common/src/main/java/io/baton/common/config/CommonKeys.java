package io.baton.common.config;

import java.util.List;

import static io.baton.common.config.ConfigKey.nonNegativeInt;
import static io.baton.common.config.ConfigKey.positiveInt;
import static io.baton.common.config.ConfigKey.positiveLong;

/**
 * Configuration keys of the common module: the job identity, the collective transport and checkpoints. Defaults and
 * docs are in common's {@code baton-reference.conf}.
 */
public final class CommonKeys implements ConfigModule
{
    public static final ConfigKey<String> JOB_NAME = ConfigKey.of("job.name", ConfigType.STRING)
        .check(v -> v.matches("[A-Za-z0-9_.\\-]{1,64}"), "1-64 of [A-Za-z0-9_.-]");

    public static final ConfigKey<String> COLLECTIVE_TRANSPORT =
        ConfigKey.of("collective.transport", ConfigType.oneOf("auto", "udp", "ipc"));
    public static final ConfigKey<String> COLLECTIVE_HOST = ConfigKey.of("collective.host", ConfigType.STRING)
        .check(v -> !v.isBlank(), "a host name or address").optional();
    public static final ConfigKey<Integer> COLLECTIVE_PORT = ConfigKey.of("collective.port", ConfigType.INT)
        .check(v -> v == 0 || v >= 1024 && v <= 65535, "0 (ephemeral) or 1024..65535");
    public static final ConfigKey<java.time.Duration> COLLECTIVE_TIMEOUT =
        ConfigKey.of("collective.timeout", ConfigType.DURATION)
            .check(v -> !v.isNegative() && !v.isZero(), "> 0");
    public static final ConfigKey<java.time.Duration> COLLECTIVE_CONNECT_TIMEOUT =
        ConfigKey.of("collective.connect-timeout", ConfigType.DURATION)
            .check(v -> !v.isNegative() && !v.isZero(), "> 0");
    public static final ConfigKey<Long> COLLECTIVE_TERM_LENGTH =
        ConfigKey.of("collective.term-length", ConfigType.BYTES)
            .check(v -> v >= 64 * 1024 && v <= 1024L * 1024 * 1024 && Long.bitCount(v) == 1,
                "a power of two between 64k and 1g");
    public static final ConfigKey<Integer> COLLECTIVE_MTU = ConfigKey.of("collective.mtu", ConfigType.INT)
        .check(v -> v >= 1408 && v <= 65504 && v % 32 == 0, "1408..65504, a multiple of 32");
    public static final ConfigKey<Long> COLLECTIVE_SOCKET_BUFFER =
        ConfigKey.of("collective.socket-buffer", ConfigType.BYTES).check(positiveLong(), "> 0");
    public static final ConfigKey<Long> COLLECTIVE_SMALL_THRESHOLD =
        ConfigKey.of("collective.small-threshold", ConfigType.BYTES).check(positiveLong(), "> 0");
    public static final ConfigKey<Long> COLLECTIVE_CHUNK = ConfigKey.of("collective.chunk", ConfigType.BYTES)
        .check(v -> v >= 1024 && v % 8 == 0 && v <= 64 * 1024 * 1024, "1k..64m and a multiple of 8");
    public static final ConfigKey<String> COLLECTIVE_COMPRESSION =
        ConfigKey.of("collective.compression", ConfigType.oneOf("none", "fp16", "bf16")).trajectory();
    public static final ConfigKey<String> COLLECTIVE_DRIVER =
        ConfigKey.of("collective.driver", ConfigType.oneOf("embedded", "external", "shared"));
    public static final ConfigKey<String> COLLECTIVE_DRIVER_DIR =
        ConfigKey.of("collective.driver-dir", ConfigType.STRING).optional();
    public static final ConfigKey<java.time.Duration> COLLECTIVE_DRIVER_LINGER =
        ConfigKey.of("collective.driver-linger", ConfigType.DURATION).check(v -> !v.isNegative(), ">= 0");
    public static final ConfigKey<Integer> COLLECTIVE_CHECKSUM_EVERY =
        ConfigKey.of("collective.checksum-every", ConfigType.INT).check(positiveInt(), "> 0");

    public static final ConfigKey<Integer> CHECKPOINT_EVERY =
        ConfigKey.of("checkpoint.every", ConfigType.INT).check(positiveInt(), "> 0");
    public static final ConfigKey<Integer> CHECKPOINT_KEEP_LAST =
        ConfigKey.of("checkpoint.keep-last", ConfigType.INT).check(positiveInt(), "> 0");
    public static final ConfigKey<Integer> CHECKPOINT_KEEP_EVERY =
        ConfigKey.of("checkpoint.keep-every", ConfigType.INT).check(nonNegativeInt(), ">= 0 (0 = off)");
    public static final ConfigKey<Boolean> CHECKPOINT_ASYNC = ConfigKey.of("checkpoint.async", ConfigType.BOOLEAN);
    public static final ConfigKey<java.time.Duration> CHECKPOINT_CLOSE_TIMEOUT =
        ConfigKey.of("checkpoint.close-timeout", ConfigType.DURATION)
            .check(v -> !v.isNegative() && !v.isZero(), "> 0");

    public static final List<ConfigKey<?>> ALL = List.of(
        JOB_NAME,
        COLLECTIVE_TRANSPORT,
        COLLECTIVE_HOST,
        COLLECTIVE_PORT,
        COLLECTIVE_TIMEOUT,
        COLLECTIVE_CONNECT_TIMEOUT,
        COLLECTIVE_TERM_LENGTH,
        COLLECTIVE_MTU,
        COLLECTIVE_SOCKET_BUFFER,
        COLLECTIVE_SMALL_THRESHOLD,
        COLLECTIVE_CHUNK,
        COLLECTIVE_COMPRESSION,
        COLLECTIVE_DRIVER,
        COLLECTIVE_DRIVER_DIR,
        COLLECTIVE_DRIVER_LINGER,
        COLLECTIVE_CHECKSUM_EVERY,
        CHECKPOINT_EVERY,
        CHECKPOINT_KEEP_LAST,
        CHECKPOINT_KEEP_EVERY,
        CHECKPOINT_ASYNC,
        CHECKPOINT_CLOSE_TIMEOUT);

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
            if ("external".equals(config.get(COLLECTIVE_DRIVER)) && config.get(COLLECTIVE_DRIVER_DIR) == null)
            {
                errors.add(COLLECTIVE_DRIVER_DIR.name() + " is not set but " + COLLECTIVE_DRIVER.name()
                    + " = external; set it to the external media driver's directory");
            }
        });
    }
}
