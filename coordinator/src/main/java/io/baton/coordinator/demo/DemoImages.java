package io.baton.coordinator.demo;

import io.baton.trainer.data.synthetic.PatternImages;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a small, learnable image classification data set in ImageNet layout ({@code train/<wnid>/*.JPEG},
 * {@code val/<wnid>/*.JPEG}) from {@link PatternImages}: what {@code baton demo} prepares and trains on.
 */
public final class DemoImages
{
    private DemoImages()
    {
    }

    /**
     * @return the number of files written.
     */
    public static int write(final Path root, final long seed, final int classes, final int trainPerClass,
        final int valPerClass, final int size)
    {
        final PatternImages images = new PatternImages(seed, classes, size, size);
        int written = 0;
        int sampleId = 0;
        for (final String split : new String[] {"train", "val"})
        {
            final int perClass = "train".equals(split) ? trainPerClass : valPerClass;
            for (int i = 0; i < perClass * classes; i++, sampleId++)
            {
                final String wnid = String.format(Locale.ROOT, "n%08d", images.label(sampleId));
                final Path file = root.resolve(split).resolve(wnid)
                    .resolve(String.format(Locale.ROOT, "%s_%06d.JPEG", split, sampleId));
                writeJpeg(images.image(sampleId), file, 0.9f);
                written++;
            }
        }
        return written;
    }

    static void writeJpeg(final BufferedImage image, final Path file, final float quality)
    {
        try
        {
            Files.createDirectories(file.getParent());
            final ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            final ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            try (ImageOutputStream out = ImageIO.createImageOutputStream(Files.newOutputStream(file)))
            {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, null), param);
            }
            finally
            {
                writer.dispose();
            }
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot write " + file, ex);
        }
    }
}
