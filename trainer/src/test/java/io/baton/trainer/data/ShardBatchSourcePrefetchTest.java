package io.baton.trainer.data;

import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.TestImages;
import io.baton.trainer.data.image.TransformSpec;
import io.baton.trainer.data.shard.Manifest;
import io.baton.trainer.data.shard.ShardWriter;
import io.baton.trainer.data.shard.ShardedDataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** data.prefetch-batches: how many batches a {@link ShardBatchSource} driven by {@link Lookahead} loads ahead. */
class ShardBatchSourcePrefetchTest
{
    private static final int SAMPLES = 40;
    private static final int CLASSES = 2;
    private static final int BATCH = 4;

    @TempDir
    static Path root;

    @BeforeAll
    static void prepare() throws IOException
    {
        Files.createDirectories(root.resolve("train"));
        final Path shard = root.resolve("train/train-00000.shard");
        final long crc;
        try (OutputStream out = Files.newOutputStream(shard); ShardWriter writer = new ShardWriter(out))
        {
            for (int i = 0; i < SAMPLES; i++)
            {
                writer.append(i * CLASSES / SAMPLES, "train/c" + i * CLASSES / SAMPLES + "/" + i + ".jpg",
                    TestImages.jpeg(TestImages.picture(60 + i, 50 + i, i), 90));
            }
            crc = writer.finish();
        }
        final Manifest.Split split = new Manifest.Split(SAMPLES, List.of(20L, 20L), "class-folders",
            List.of(new Manifest.ShardEntry("train/train-00000.shard", 0, SAMPLES, Files.size(shard),
                Manifest.crcHex(crc))), List.of(), 0);
        final Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, List.of("c0", "c1"), Map.of("c0", 0, "c1", 1),
            Map.of(DataSources.TRAIN, split), Map.of(), "2026-12-06T00:00:00Z");
        Files.write(root.resolve(Manifest.FILE_NAME), manifest.toJson());
    }

    private static ShardBatchSource source(final int prefetchBatches) throws IOException
    {
        return new ShardBatchSource(ShardedDataset.open(root.toUri(), DataSources.TRAIN, root.resolve("cache")),
            new ImageDecoder(JpegBackend.DEFAULT), 16, 5, TransformSpec.IMAGENET, 2, prefetchBatches);
    }

    /** Trains one epoch as TrainingLoop does, slowly; returns the features of every batch and checks the depth. */
    private static List<float[]> epoch(final int prefetchBatches, final List<Integer> depths, final List<Integer> ready)
        throws Exception
    {
        final GlobalBatchSampler sampler = new GlobalBatchSampler(SAMPLES, BATCH, 1, 5, PartialBatchPolicy.DROP);
        final GlobalBatchSampler.EpochOrder order = sampler.epoch(3);
        final List<float[]> batches = new ArrayList<>();
        try (ShardBatchSource source = source(prefetchBatches))
        {
            assertEquals(prefetchBatches, source.prefetchBatches());
            final Lookahead lookahead = new Lookahead(source, order, 3, 0);
            for (int s = 0; s < order.steps(); s++)
            {
                final BatchSource.Batch batch = source.load(order.slice(s, 0), 3, true);
                lookahead.loaded(s);
                batches.add(batch.features().dup().data().asFloat());
                // A slow step: the loader has time to finish everything it was asked to load ahead.
                final long deadline = System.nanoTime() + 10_000_000_000L;
                while (source.readyBatches() < source.pendingBatches() && System.nanoTime() < deadline)
                {
                    Thread.sleep(5);
                }
                depths.add(source.pendingBatches());
                ready.add(source.readyBatches());
            }
        }
        return batches;
    }

    @Test
    void shouldKeepExactlyPrefetchBatchesLoadingAheadOfTheStepAndDeliverTheSameBatchesInOrder() throws Exception
    {
        final List<Integer> noDepth = new ArrayList<>();
        final List<float[]> none = epoch(0, noDepth, new ArrayList<>());
        assertTrue(noDepth.stream().allMatch(d -> d == 0), noDepth.toString());
        for (final int n : new int[] {1, 3})
        {
            final List<Integer> depths = new ArrayList<>();
            final List<Integer> ready = new ArrayList<>();
            final List<float[]> ahead = epoch(n, depths, ready);
            assertEquals(none.size(), ahead.size());
            for (int s = 0; s < none.size(); s++)
            {
                assertArrayEquals(none.get(s), ahead.get(s), "step " + s + " with prefetch " + n);
            }
            final int steps = SAMPLES / BATCH;
            final List<Integer> expected = new ArrayList<>();
            for (int s = 0; s < steps; s++)
            {
                // Up to n ahead, fewer at the end of the epoch: loading never runs into the next epoch.
                expected.add(Math.min(n, steps - 1 - s));
            }
            assertEquals(expected, depths, "batches loading ahead after each step, prefetch " + n);
            assertEquals(expected, ready, "batches loaded ahead while the step was slow, prefetch " + n);
        }
    }

    @Test
    void shouldDropWhatWasLoadingAheadWhenAskedForSomethingElse() throws Exception
    {
        try (ShardBatchSource source = source(2))
        {
            source.prefetch(new int[] {0, 1}, 0, true);
            source.prefetch(new int[] {2, 3}, 0, true);
            source.prefetch(new int[] {4, 5}, 0, true);
            assertEquals(2, source.pendingBatches(), "a hint beyond the depth is dropped");
            final float[] direct = source.load(new int[] {6, 7}, 0, true).features().dup().data().asFloat();
            assertEquals(0, source.pendingBatches());
            assertEquals(3 * 16 * 16 * 2, direct.length);
        }
    }
}
