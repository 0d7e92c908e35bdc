package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.coordinator.cli.BatonCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.baton.coordinator.train.MemoryPreflight.Level.EXCEEDS;
import static io.baton.coordinator.train.MemoryPreflight.Level.FITS;
import static io.baton.coordinator.train.MemoryPreflight.Level.TIGHT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native-memory check before a local job starts: thresholds, and a refusal that names the sizes. */
class MemoryPreflightTest
{
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void estimateTimesReplicasAgainstTheLimitWithTheMeasuredResidentFactor()
    {
        assertEquals(FITS, MemoryPreflight.level(2 * GIB, 2, 8 * GIB), "2 x 2 GiB x 2.0 = 8 GiB fits 8 GiB");
        assertEquals(TIGHT, MemoryPreflight.level(3 * GIB, 2, 8 * GIB), "6 GiB estimated, ~12 GiB resident");
        assertEquals(EXCEEDS, MemoryPreflight.level(5 * GIB, 2, 8 * GIB), "10 GiB estimated alone exceeds 8 GiB");
        assertEquals(FITS, MemoryPreflight.level(500 * GIB, 2, 0), "no known limit: nothing to say");
    }

    @Test
    void aJobThatMayNotFitGetsAWarningNamingEstimateLimitAndWhatToLower()
    {
        final BatonConfig config = new ConfigLoader(ConfigDef.discover()).load(null,
            List.of("model.arch=resnet20", "data.image-size=32"));
        // ResNet-20 at 32x32, 32 images: ~202 MiB by DL4J's estimate; two replicas against 600 MiB may not fit.
        final String warning = MemoryPreflight.check(config, 32, 2, 10, 600L << 20);
        assertTrue(warning.startsWith("WARNING: DL4J's training memory estimate for resnet20 at 32x32, 32 images per "
            + "replica, is 202 MiB per replica; 2 replica(s) in this JVM against its native memory limit of 600 MiB"),
            warning);
        assertTrue(warning.contains("so it may not fit; lower train.global-batch or data.image-size = 32"), warning);
        assertNull(MemoryPreflight.check(config, 32, 2, 10, 2048L << 20));
    }

    @Test
    void aLocalTrainingThatCannotFitIsRefusedBeforeSparkStartsNamingBatchAndImageSize()
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final Path runDir = dir.resolve("run");
        // ResNet-20 at 2048x2048, 64 images per replica: terabytes by DL4J's estimate on any machine.
        final int code = BatonCli.run(new String[] {"train", "--run-dir", runDir.toString(), "--set",
            "data.image-size=2048", "--set", "train.global-batch=128", "--set", "data.synthetic-samples=256",
            "--set", "train.epochs=1", "--set", "optim.decay-epochs=[]"}, new PrintWriter(out, true),
            new PrintWriter(err, true));
        assertEquals(BatonCli.EXIT_USAGE, code, err.toString() + out);
        assertTrue(err.toString().startsWith("baton train: DL4J's training memory estimate for resnet20 "
            + "at 2048x2048, 64 images per replica, is "), err.toString());
        assertTrue(err.toString().contains("2 replica(s) in this JVM against its native memory limit of "),
            err.toString());
        assertTrue(err.toString().contains("it cannot fit; lower train.global-batch or data.image-size = 2048"),
            err.toString());
        assertFalse(Files.exists(runDir), "refused before the run directory was created");
    }
}
