package io.baton.trainer.bench;

import io.baton.trainer.data.image.ImageDecoder;
import io.baton.trainer.data.image.JpegBackend;
import io.baton.trainer.data.image.PhotoLike;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test): decode, and decode + train augmentation (RandomResizedCrop, flip, normalise) to 224 and to
 * 128, of ImageNet-like JPEGs (400x350, quality 97, {@link PhotoLike}: gradients, texture and noise, ~116 kB; or the JPEGs
 * of a folder) on one
 * thread, i.e. images/s per core, for the JDK reader, Leptonica's libjpeg-turbo 1.5.3, the host's libjpeg-turbo 2
 * (TurboJPEG, data.jpeg-decoder = turbo's first choice), and that with DCT-domain scaling ({@code data.jpeg-dct-scaling}),
 * alternating decoders round by round in the same JVM. Run by
 * {@code bench/pipeline/run.sh}. Args: [images seconds-per-measurement rounds [folder of JPEGs]] (default 64 2 3).
 */
public final class PipelineBench
{
    /**
     * JPEG quality of the generated images (system property baton.bench.quality, default 97: {@link PhotoLike} at
     * 400x350 is then ~116 kB, an ImageNet photo's size; 90 gives ~66 kB).
     */
    private static final int QUALITY = Integer.getInteger("baton.bench.quality", 97);

    private PipelineBench()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final int count = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        final double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        final int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        final List<byte[]> images = new ArrayList<>();
        long bytes = 0;
        if (args.length > 3)
        {
            try (var files = java.nio.file.Files.list(java.nio.file.Path.of(args[3])))
            {
                for (final java.nio.file.Path file : files.sorted().toList())
                {
                    images.add(java.nio.file.Files.readAllBytes(file));
                    bytes += images.get(images.size() - 1).length;
                }
            }
            System.out.printf("images: %d JPEGs from %s, mean %.1f kB%n", images.size(), args[3],
                bytes / 1e3 / images.size());
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                images.add(jpeg(PhotoLike.render(400, 350, i), QUALITY));
                bytes += images.get(i).length;
            }
            System.out.printf("images: %d JPEGs 400x350 q%d, mean %.1f kB%n", count, QUALITY, bytes / 1e3 / count);
        }
        final ImageDecoder jdk = new ImageDecoder(JpegBackend.IMAGEIO);
        // Leptonica's bundled libjpeg-turbo 1.5.3: TURBO without the TurboJPEG binding
        final ImageDecoder leptonica = new ImageDecoder(JpegBackend.TURBO, false, "/nonexistent/turbojpeg.jar");
        final ImageDecoder system = new ImageDecoder(JpegBackend.TURBO);
        final ImageDecoder systemDct = new ImageDecoder(JpegBackend.TURBO, true);
        System.out.printf("system decoder: %s%n", system.turboLibrary());
        System.out.printf("turbo-system vs JDK pixels: %s%n", difference(images, system, jdk));
        System.out.printf("turbo-leptonica vs JDK pixels: %s%n", difference(images, leptonica, jdk));
        final Map<String, ImageDecoder> decoders = new LinkedHashMap<>();
        decoders.put("imageio", jdk);
        decoders.put("turbo-leptonica-1.5.3", leptonica);
        decoders.put("turbo-system-2", system);
        decoders.put("turbo-system-2+dct-scaling", systemDct);
        final TrainTransform at224 = new TrainTransform(224, 42);
        final TrainTransform at128 = new TrainTransform(128, 42);
        final float[] out224 = new float[at224.sampleLength()];
        final float[] out128 = new float[at128.sampleLength()];
        for (int round = 0; round <= rounds; round++)
        {
            for (final Map.Entry<String, ImageDecoder> e : decoders.entrySet())
            {
                final ImageDecoder decoder = e.getValue();
                final int n = images.size();
                final double decode = measure(images, seconds, id -> decoder.decode(images.get(id % n)));
                final double aug224 = measure(images, seconds,
                    id -> at224.decodeAndApply(decoder, images.get(id % n), id, 0, out224, 0));
                final double aug128 = measure(images, seconds,
                    id -> at128.decodeAndApply(decoder, images.get(id % n), id, 0, out128, 0));
                // round 0 is warm-up
                System.out.printf("%s round=%d decoder=%s decode=%.1f img/s decode+augment224=%.1f img/s "
                        + "decode+augment128=%.1f img/s%n", round == 0 ? "WARMUP" : "RESULT", round, e.getKey(),
                    decode, aug224, aug128);
            }
        }
    }

    /** Max and mean absolute difference per channel between two decoders over the images. */
    private static String difference(final List<byte[]> images, final ImageDecoder a, final ImageDecoder b)
        throws IOException
    {
        final int[] max = new int[3];
        final long[] sum = new long[3];
        long pixels = 0;
        for (final byte[] image : images)
        {
            final byte[] x = a.decode(image).rgb();
            final byte[] y = b.decode(image).rgb();
            for (int i = 0; i < x.length; i++)
            {
                final int d = Math.abs((x[i] & 0xFF) - (y[i] & 0xFF));
                max[i % 3] = Math.max(max[i % 3], d);
                sum[i % 3] += d;
            }
            pixels += x.length / 3;
        }
        return String.format("max abs R %d G %d B %d, mean abs R %.4f G %.4f B %.4f over %d pixels", max[0], max[1],
            max[2], sum[0] / (double)pixels, sum[1] / (double)pixels, sum[2] / (double)pixels, pixels);
    }

    private static double measure(final List<byte[]> images, final double seconds, final Work work)
        throws IOException
    {
        final long deadline = System.nanoTime() + (long)(seconds * 1e9);
        final long start = System.nanoTime();
        long done = 0;
        while (System.nanoTime() < deadline)
        {
            work.run((int)done);
            done++;
        }
        return done / ((System.nanoTime() - start) / 1e9);
    }

    @FunctionalInterface
    private interface Work
    {
        void run(int id) throws IOException;
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
