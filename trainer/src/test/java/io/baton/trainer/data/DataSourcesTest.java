package io.baton.trainer.data;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.data.shard.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataSourcesTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    @TempDir
    Path dir;

    private BatonConfig withDataPath(final String path)
    {
        return loader.load(null, List.of("data.path=" + path));
    }

    @Test
    void aDataPathWithoutManifestIsRefusedBeforeAnythingStartsNamingTheKeyAndTheFile()
    {
        final Path missing = dir.resolve("never-prepared");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> DataSources.requireReadable(withDataPath(missing.toString()), DataSources.TRAIN));
        assertTrue(ex.getMessage().startsWith("data.path = " + missing + ": no manifest.json at "), ex.getMessage());
        assertTrue(ex.getMessage().contains("not a (complete) baton prepare output"), ex.getMessage());
    }

    @Test
    void aFileSystemSchemeWithoutAnImplementationIsAUsageErrorNamingDataPath()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> DataSources.requireReadable(withDataPath("foo://bucket/imagenet"), DataSources.TRAIN));
        assertTrue(ex.getMessage().startsWith("data.path = foo://bucket/imagenet: No FileSystem for scheme \"foo\""),
            ex.getMessage());
    }

    @Test
    void anImageTreeGivenAsDataPathIsToldToBePreparedFirst() throws IOException
    {
        final Path tree = Files.createDirectories(dir.resolve("imagenet/train/n01440764")).getParent().getParent();
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> DataSources.requireReadable(withDataPath(tree.toString()), DataSources.TRAIN));
        assertTrue(ex.getMessage().endsWith("; it holds a train/ folder, so if it is an image tree, prepare it first: "
            + "baton prepare file:" + tree + " OUTPUT"), ex.getMessage());
    }

    @Test
    void aSplitTheManifestDoesNotHoldIsRefusedNamingTheSplitsItHas() throws IOException
    {
        final Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, List.of("n01"), Map.of("n01", 0),
            Map.of(DataSources.TRAIN, new Manifest.Split(0, List.of(0L), "class-folders", List.of(), List.of(), 0)),
            Map.of(), "2026-11-27T00:00:00Z");
        Files.write(dir.resolve(Manifest.FILE_NAME), manifest.toJson());
        final BatonConfig config = withDataPath(dir.toString());
        assertDoesNotThrow(() -> DataSources.requireReadable(config, DataSources.TRAIN));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> DataSources.requireReadable(config, DataSources.TRAIN, DataSources.VAL));
        assertTrue(ex.getMessage().contains("split 'val' is not in"), ex.getMessage());
        assertTrue(ex.getMessage().contains("[train]"), ex.getMessage());
    }

    @Test
    void generatedImagesNeedNoDataPath()
    {
        assertDoesNotThrow(() -> DataSources.requireReadable(loader.defaults(), DataSources.TRAIN, DataSources.VAL));
    }
}
