package io.baton.coordinator.chaos;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * The chaos runner's input for {@code baton prepare}: an ImageNet-layout tree of small PNGs (train/ and val/, one
 * folder per class), the same bytes for the same seed, so every invocation of the runner trains on the same shards.
 */
final class ImageTree
{
    static final int CLASSES = 4;
    static final int TRAIN_PER_CLASS = 8;
    static final int VAL_PER_CLASS = 2;
    private static final int SIDE = 20;

    private ImageTree()
    {
    }

    /** Writes the tree under {@code root}. */
    static void write(final Path root, final long seed) throws IOException
    {
        final Random random = new Random(seed);
        for (int c = 0; c < CLASSES; c++)
        {
            final String wnid = String.format("n%08d", c);
            for (int i = 0; i < TRAIN_PER_CLASS + VAL_PER_CLASS; i++)
            {
                final String split = i < TRAIN_PER_CLASS ? "train" : "val";
                final Path file = root.resolve(split).resolve(wnid).resolve(String.format("%s_%02d.png", wnid, i));
                Files.createDirectories(file.getParent());
                ImageIO.write(picture(c, random), "png", file.toFile());
            }
        }
    }

    /** A class-dependent colour gradient plus noise, so the classes can be learned a little. */
    private static BufferedImage picture(final int label, final Random random)
    {
        final BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIDE; y++)
        {
            for (int x = 0; x < SIDE; x++)
            {
                final int r = (label * 60 + x * 8 + random.nextInt(40)) & 0xff;
                final int g = (label * 30 + y * 8 + random.nextInt(40)) & 0xff;
                final int b = (255 - label * 50 + random.nextInt(40)) & 0xff;
                image.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return image;
    }
}
