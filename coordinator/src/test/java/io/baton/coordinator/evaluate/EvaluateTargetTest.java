package io.baton.coordinator.evaluate;

import io.baton.trainer.export.ModelExporter;
import io.baton.trainer.model.ModelOptions;
import io.baton.trainer.model.ResNetZoo;
import io.baton.trainer.syncbn.SyncBatchNorm;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.NoOp;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class EvaluateTargetTest
{
    @TempDir
    Path dir;

    @Test
    void aRunsModelZipNamedDirectlyIsEvaluatedWithItsRunsConfiguration() throws Exception
    {
        final Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(run.resolve("run.conf"), "data { image-size = 32 }\n");
        Files.write(run.resolve("model.zip"), new byte[] {1});
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(run.resolve("model.zip").toString());
        assertEquals(run.resolve("model.zip").toString(), target.modelUri());
        assertEquals("data { image-size = 32 }\n", target.runConfig());
    }

    @Test
    void aStandaloneExportedZipGivesTheImageSizeItWasExportedFor() throws Exception
    {
        final ModelOptions options = ModelOptions.builder("resnet20").input(24, 24, 3).numClasses(4).seed(5).build();
        final Path zip = dir.resolve("exported.zip");
        ModelExporter.export(ResNetZoo.graph(options, spec -> spec.applyTo(new SyncBatchNorm()), new NoOp()),
            (InputType.InputTypeConvolutional)InputType.convolutional(24, 24, 3), zip, 7, 1e3);
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(zip.toString());
        assertNull(target.runConfig());
        assertEquals(24, target.imageSize());
    }

    @Test
    void aZipWithoutSidecarOrRunConfigurationLeavesTheSizeToTheConfiguration() throws Exception
    {
        final Path zip = Files.write(dir.resolve("foreign.zip"), new byte[] {1, 2, 3});
        final EvaluateJob.Target target = EvaluateJob.Target.resolve(zip.toString());
        assertNull(target.runConfig());
        assertNull(target.imageSize());
    }
}
