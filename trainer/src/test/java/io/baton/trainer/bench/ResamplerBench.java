package io.baton.trainer.bench;

import io.baton.trainer.data.SplitMix64;
import io.baton.trainer.data.image.CropBox;
import io.baton.trainer.data.image.PhotoLike;
import io.baton.trainer.data.image.RandomResizedCrop;
import io.baton.trainer.data.image.ReferenceResampler;
import io.baton.trainer.data.image.Resampler;
import io.baton.trainer.data.image.RgbImage;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark (not a test): {@link Resampler#resample} against the implementation it replaced
 * ({@link ReferenceResampler}) on one thread, alternating round by round in one JVM after a warm-up round. Cases: the
 * whole 400x350 image to 224x224, and RandomResizedCrop's crops of 400x350 images to 224x224 (what
 * {@code TrainTransform} does per training image), also into a reused array as {@code TrainTransform} now resamples.
 * Prints microseconds per call. Args: [images seconds rounds]
 * (default 16 2 3). Run with the test classpath, e.g. as {@code bench/pipeline/run.sh} sets it up.
 */
public final class ResamplerBench
{
    private ResamplerBench()
    {
    }

    public static void main(final String[] args)
    {
        final int count = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        final double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        final int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        final List<RgbImage> images = new ArrayList<>();
        final List<CropBox> crops = new ArrayList<>();
        final SplitMix64 random = new SplitMix64(42);
        final float[] reused = new float[224 * 224 * 3];
        for (int i = 0; i < count; i++)
        {
            images.add(rgb(PhotoLike.render(400, 350, i)));
            crops.add(RandomResizedCrop.sample(400, 350, random));
        }
        for (int round = 0; round <= rounds; round++)
        {
            final double oldWhole = measure(seconds, id -> whole(images.get(id % count), true));
            final double newWhole = measure(seconds, id -> whole(images.get(id % count), false));
            final double oldCrop = measure(seconds, id -> crop(images.get(id % count), crops.get(id % count), true));
            final double newCrop = measure(seconds, id -> crop(images.get(id % count), crops.get(id % count), false));
            final double reusedCrop = measure(seconds, id -> {
                final CropBox c = crops.get(id % count);
                return Resampler.resample(images.get(id % count), c.left(), c.top(), c.width(), c.height(), 224, 224,
                    reused);
            });
            // round 0 is warm-up
            System.out.printf("%s round=%d whole-400x350-to-224: old=%.1f us new=%.1f us speedup=%.2fx "
                    + "random-resized-crop-to-224: old=%.1f us new=%.1f us speedup=%.2fx new-into-reused-array=%.1f us "
                    + "speedup=%.2fx%n",
                round == 0 ? "WARMUP" : "RESULT", round, oldWhole, newWhole, oldWhole / newWhole, oldCrop, newCrop,
                oldCrop / newCrop, reusedCrop, oldCrop / reusedCrop);
        }
    }

    private static float[] whole(final RgbImage image, final boolean reference)
    {
        return reference ? ReferenceResampler.resample(image, 0, 0, 400, 350, 224, 224)
            : Resampler.resample(image, 0, 0, 400, 350, 224, 224);
    }

    private static float[] crop(final RgbImage image, final CropBox c, final boolean reference)
    {
        return reference ? ReferenceResampler.resample(image, c.left(), c.top(), c.width(), c.height(), 224, 224)
            : Resampler.resample(image, c.left(), c.top(), c.width(), c.height(), 224, 224);
    }

    /** Microseconds per call over about {@code seconds}; sums an output float so the work cannot be dropped. */
    private static double measure(final double seconds, final Work work)
    {
        final long deadline = System.nanoTime() + (long)(seconds * 1e9);
        final long start = System.nanoTime();
        long done = 0;
        float sink = 0;
        while (System.nanoTime() < deadline)
        {
            sink += work.run((int)done)[(int)(done % 1000)];
            done++;
        }
        final double us = (System.nanoTime() - start) / 1e3 / done;
        if (sink == -1)
        {
            System.out.println(sink);
        }
        return us;
    }

    private static RgbImage rgb(final BufferedImage image)
    {
        final int w = image.getWidth();
        final int h = image.getHeight();
        final byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                final int p = image.getRGB(x, y);
                final int i = (y * w + x) * 3;
                rgb[i] = (byte)(p >> 16);
                rgb[i + 1] = (byte)(p >> 8);
                rgb[i + 2] = (byte)p;
            }
        }
        return new RgbImage(w, h, rgb);
    }

    @FunctionalInterface
    private interface Work
    {
        float[] run(int id);
    }
}
