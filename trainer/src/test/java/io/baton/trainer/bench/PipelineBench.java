package io.baton.trainer.bench;

import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.RgbImage;
import io.baton.trainer.data.image.TrainTransform;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Benchmark (not a test): decode and decode + train augmentation (RandomResizedCrop to 224, flip, normalise) of
 * ImageNet-like JPEGs (500x375, quality 90, photo-like gradients, texture and noise) on one thread, i.e. images/s
 * per core, for each {@link JpegBackend}, alternating backends round by round in the same JVM. Run by
 * {@code bench/pipeline/run.sh}. Args: [images seconds-per-measurement rounds] (default 64 4 3).
 */
public final class PipelineBench
{
    private PipelineBench()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final int count = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        final double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 4;
        final int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        final List<byte[]> images = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < count; i++)
        {
            images.add(jpeg(photoLike(500, 375, i), 90));
            bytes += images.get(i).length;
        }
        System.out.printf("images: %d JPEGs 500x375 q90, mean %.1f kB%n", count, bytes / 1e3 / count);
        final TrainTransform transform = new TrainTransform(224, 42);
        final float[] out = new float[transform.sampleLength()];
        for (int round = 0; round <= rounds; round++)
        {
            for (final JpegBackend backend : JpegBackend.values())
            {
                final ImageDecoder decoder = new ImageDecoder(backend);
                final double decode = measure(images, seconds, id -> decoder.decode(images.get(id)));
                final double full = measure(images, seconds, id ->
                {
                    final RgbImage image = decoder.decode(images.get(id));
                    transform.apply(image, id, 0, out, 0);
                });
                // round 0 is warm-up
                System.out.printf("%s round=%d backend=%s decode=%.1f img/s decode+augment=%.1f img/s%n",
                    round == 0 ? "WARMUP" : "RESULT", round, backend, decode, full);
            }
        }
    }

    private static double measure(final List<byte[]> images, final double seconds, final Work work)
        throws IOException
    {
        final long deadline = System.nanoTime() + (long)(seconds * 1e9);
        final long start = System.nanoTime();
        long done = 0;
        while (System.nanoTime() < deadline)
        {
            work.run((int)(done % images.size()));
            done++;
        }
        return done / ((System.nanoTime() - start) / 1e9);
    }

    @FunctionalInterface
    private interface Work
    {
        void run(int id) throws IOException;
    }

    private static BufferedImage photoLike(final int width, final int height, final long seed)
    {
        final Random random = new Random(seed);
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        final double fx = 0.01 + random.nextDouble() * 0.05;
        final double fy = 0.01 + random.nextDouble() * 0.05;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final double texture = 40 * Math.sin(x * fx + 3 * Math.sin(y * fy)) * Math.cos(y * fy * 1.7);
                final int r = clamp(x * 200 / width + texture + random.nextGaussian() * 12);
                final int g = clamp(y * 200 / height + texture * 0.6 + random.nextGaussian() * 12);
                final int b = clamp(120 + texture - 30 * Math.sin(x * 0.003 * y) + random.nextGaussian() * 12);
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return image;
    }

    private static int clamp(final double v)
    {
        return (int)Math.max(0, Math.min(255, v));
    }

    private static byte[] jpeg(final BufferedImage image, final int quality) throws IOException
    {
        final ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out))
        {
            final ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
            writer.setOutput(stream);
            writer.write(null, new IIOImage(image, null, null), param);
        }
        finally
        {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
