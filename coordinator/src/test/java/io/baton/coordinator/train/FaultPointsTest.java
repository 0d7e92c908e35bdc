package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultPointsTest
{
    @Test
    void shouldParsePhaseCallStepAndRank()
    {
        assertEquals(List.of(new FaultPointSpec("syncbn", 7, 12, 1), new FaultPointSpec("checkpoint", 1, 9, 0)),
            FaultPointSpec.parseAll("syncbn#7@12:1, checkpoint@9"));
        assertNull(FaultPointSpec.parseAll("backward@3"));
        assertNull(FaultPointSpec.parseAll("forward#0@3"));
        assertThrows(RuntimeException.class, () -> config("debug.fault-points=\"forward@x\""));
    }

    @Test
    void shouldPauseOnceAtTheNthCallOfThePointsStepOnItsRankOnly(@TempDir final Path markers)
    {
        final String[] keys = {"debug.fault-points=\"syncbn#2@5:1\"", "debug.fault-point-dir=\"" + markers + "\"",
            "debug.fault-point-pause=300ms"};
        assertSame(FaultPoints.NONE, FaultPoints.from(config(keys), 0));
        final FaultPoints faults = FaultPoints.from(config(keys), 1);
        faults.step(4);
        faults.reachInStep("syncbn", "a");
        faults.reachInStep("syncbn", "b");
        assertTrue(isEmpty(markers), "step 4 is not the point's");
        faults.step(5);
        faults.reachInStep("syncbn", "first");
        assertTrue(isEmpty(markers), "the first call is not the point's");
        final long startNs = System.nanoTime();
        faults.reachInStep("syncbn", "second");
        assertTrue(System.nanoTime() - startNs >= 250_000_000L, "paused");
        assertTrue(Files.exists(markers.resolve("fault-point-syncbn-5")));
        faults.step(5);
        faults.reachInStep("syncbn", "again");
        final long againNs = System.nanoTime();
        faults.reachInStep("syncbn", "again");
        assertTrue(System.nanoTime() - againNs < 250_000_000L, "a relaunched stage passes a claimed point");
    }

    private static boolean isEmpty(final Path dir)
    {
        try (var files = Files.list(dir))
        {
            return files.findAny().isEmpty();
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    private static BatonConfig config(final String... keys)
    {
        return new ConfigLoader(ConfigDef.discover()).load(null, List.of(keys));
    }
}
