package io.baton.trainer.data;

import io.baton.trainer.data.shard.Manifest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataIdentityTest
{
    private static Manifest manifest(final List<String> classes, final String trainCrc, final String createdAt)
    {
        final Manifest.Split train = new Manifest.Split(961, List.of(481L, 480L), "class-folders",
            List.of(new Manifest.ShardEntry("train/train-00000.shard", 0, 961, 1_234_567, trainCrc)), List.of(), 0);
        final Manifest.Split val = new Manifest.Split(240, List.of(120L, 120L), "class-folders",
            List.of(new Manifest.ShardEntry("val/val-00000.shard", 0, 240, 345_678, "0badf00d")), List.of(), 0);
        return new Manifest(Manifest.FORMAT_VERSION, classes, Manifest.indexOf(classes),
            Map.of("train", train, "val", val), Map.of("jpegQuality", 90), createdAt);
    }

    @Test
    void shouldNameClassesAndSplitSizesAndIgnoreWhenThePreparationRan()
    {
        final String a = DataIdentity.of(manifest(List.of("cat", "dog"), "09f48aa1", "2026-11-27T10:00:00Z"));
        assertTrue(a.startsWith("2 classes, train 961 + val 240 samples, sha256 "), a);
        assertEquals(a, DataIdentity.of(manifest(List.of("cat", "dog"), "09f48aa1", "2026-11-28T11:00:00Z")));
    }

    @Test
    void shouldChangeWhenAClassIsRenamedOrAShardsContentDiffers()
    {
        final String a = DataIdentity.of(manifest(List.of("cat", "dog"), "09f48aa1", "t"));
        assertNotEquals(a, DataIdentity.of(manifest(List.of("cat", "wolf"), "09f48aa1", "t")));
        assertNotEquals(a, DataIdentity.of(manifest(List.of("cat", "dog"), "09f48aa2", "t")));
    }
}
