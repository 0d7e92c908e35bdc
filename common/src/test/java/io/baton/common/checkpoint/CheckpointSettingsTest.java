package io.baton.common.checkpoint;

import io.baton.common.config.BatonConfigException;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointSettingsTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    @Test
    void shouldResolveTheRunDirectoryAndRetentionFromTheCheckpointKeys()
    {
        final CheckpointSettings settings = CheckpointSettings.from(loader.load(null, List.of(
            "checkpoint.every=500",
            "checkpoint.keep-last=2", "checkpoint.keep-every=10", "checkpoint.async=false",
            "checkpoint.close-timeout=90s")), "hdfs://nn:8020/runs/resnet152-a/");
        assertEquals("hdfs://nn:8020/runs/resnet152-a/checkpoints", settings.dir());
        assertEquals(500, settings.everySteps());
        assertEquals(new RetentionPolicy(2, 5000), settings.retention());
        assertEquals(false, settings.async());
        assertEquals(Duration.ofSeconds(90), settings.closeTimeout());
    }

    @Test
    void shouldDefaultToAsyncLocalCheckpointsKeepingThree()
    {
        final CheckpointSettings settings = CheckpointSettings.from(loader.defaults(), "runs/baton-job");
        assertEquals("runs/baton-job/checkpoints", settings.dir());
        assertEquals(RetentionPolicy.keepLast(3), settings.retention());
        assertTrue(settings.async());
    }

    @Test
    void shouldRefuseKeepingNoCheckpoint()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("checkpoint.keep-last=0")));
        assertTrue(ex.getMessage().contains("checkpoint.keep-last"), ex.getMessage());
    }
}
