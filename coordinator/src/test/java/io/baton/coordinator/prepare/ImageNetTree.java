package io.baton.coordinator.prepare;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.RenderedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generates a small ImageNet-layout tree: 3 classes created out of order, JPEG (.JPEG/.jpg) and PNG files of several
 * sizes, a grayscale and a CMYK JPEG, one corrupt file; val as class folders or flat with a LOC csv or devkit files.
 * Remembers the expected (path, wnid, bytes) of every valid file.
 */
final class ImageNetTree
{
    /** wnids in creation order (not sorted). */
    static final List<String> WNIDS = List.of("n02000002", "n00000003", "n01000001");
    static final String CORRUPT = "train/n01000001/corrupt_0.JPEG";

    final Path root;
    /** Valid files by relative path (sorted), value = wnid. */
    final Map<String, String> train = new TreeMap<>();
    final Map<String, String> val = new TreeMap<>();

    private ImageNetTree(final Path root)
    {
        this.root = root;
    }

    /** Val as class folders. */
    static ImageNetTree withValFolders(final Path root) throws IOException
    {
        final ImageNetTree tree = new ImageNetTree(root);
        tree.writeTrain();
        int n = 0;
        for (final String wnid : WNIDS)
        {
            for (int i = 0; i < 2; i++)
            {
                tree.write(tree.val, "val/" + wnid + "/ILSVRC2012_val_" + n + ".JPEG", wnid,
                    jpeg(picture(60 + 10 * i, 50, n++)));
            }
        }
        return tree;
    }

    /** Flat val with LOC_val_solution.csv ({@code devkit=false}) or ground truth + mapping files. */
    static ImageNetTree withFlatVal(final Path root, final boolean devkit) throws IOException
    {
        final ImageNetTree tree = new ImageNetTree(root);
        tree.writeTrain();
        final StringBuilder csv = new StringBuilder("ImageId,PredictionString\n");
        final StringBuilder truth = new StringBuilder();
        // devkit ids are not the sorted order: id 1 = n02000002, 2 = n00000003, 3 = n01000001
        final String mapping = "1 n02000002\n2 n00000003\n3 n01000001\n";
        for (int i = 1; i <= 6; i++)
        {
            final String name = String.format("ILSVRC2012_val_%08d", i);
            final String wnid = WNIDS.get(i % 3);
            tree.write(tree.val, "val/" + name + ".JPEG", wnid, jpeg(picture(70, 40 + i, 100 + i)));
            csv.append(name).append(',').append(wnid).append(" 1 2 30 40 ").append(wnid).append(" 5 6 7 8\n");
            truth.append(i % 3 + 1).append('\n');
        }
        if (devkit)
        {
            Files.writeString(root.resolve("ILSVRC2012_validation_ground_truth.txt"), truth);
            Files.writeString(root.resolve("ILSVRC2012_mapping.txt"), "# id wnid\n" + mapping);
        }
        else
        {
            Files.writeString(root.resolve("LOC_val_solution.csv"), csv);
        }
        return tree;
    }

    private void writeTrain() throws IOException
    {
        int seed = 0;
        for (final String wnid : WNIDS)
        {
            final String dir = "train/" + wnid + "/";
            write(train, dir + wnid + "_1.JPEG", wnid, jpeg(picture(120, 90, seed++)));
            write(train, dir + wnid + "_2.jpg", wnid, jpeg(picture(64, 96, seed++)));
            write(train, dir + wnid + "_3.PNG", wnid, png(picture(50, 50, seed++)));
            write(train, dir + wnid + "_4.jpeg", wnid, jpeg(picture(300, 200, seed++)));
        }
        write(train, "train/n00000003/gray_5.JPEG", "n00000003", jpeg(gray(80, 60)));
        write(train, "train/n02000002/cmyk_5.JPEG", "n02000002", cmykJpeg(40, 30));
        final Path corrupt = root.resolve(CORRUPT);
        Files.write(corrupt, "this is not a JPEG at all".repeat(20).getBytes());
        Files.writeString(root.resolve("train/n02000002/notes.txt"), "ignored: not an image");
    }

    private void write(final Map<String, String> into, final String path, final String wnid, final byte[] bytes)
        throws IOException
    {
        final Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        into.put(path, wnid);
    }

    /** Expected sample order of a split: sorted wnid, then path. */
    static List<String> order(final Map<String, String> files)
    {
        final List<String> paths = new ArrayList<>(files.keySet());
        paths.sort(java.util.Comparator.comparing((String p) -> files.get(p)).thenComparing(p -> p));
        return paths;
    }

    static BufferedImage picture(final int width, final int height, final long seed)
    {
        final java.util.Random random = new java.util.Random(seed);
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image.setRGB(x, y, (x * 255 / width) << 16 | (y * 255 / height) << 8 | random.nextInt(64));
            }
        }
        return image;
    }

    static BufferedImage gray(final int width, final int height)
    {
        final BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image.getRaster().setSample(x, y, 0, (x * 3 + y) & 0xFF);
            }
        }
        return image;
    }

    static byte[] jpeg(final RenderedImage image) throws IOException
    {
        return writeJpeg(new IIOImage(image, null, null));
    }

    static byte[] png(final RenderedImage image) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    /** An Adobe CMYK JPEG (raw raster through the JDK writer, then an APP14 Adobe marker, transform 0). */
    static byte[] cmykJpeg(final int width, final int height) throws IOException
    {
        final WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, width, height, 4, null);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                raster.setPixel(x, y, new int[] {255 - x, y * 4, 128, 240});
            }
        }
        final byte[] plain = writeJpeg(new IIOImage(raster, null, null));
        final byte[] adobe = {(byte)0xFF, (byte)0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        final byte[] out = new byte[plain.length + adobe.length];
        System.arraycopy(plain, 0, out, 0, 2);
        System.arraycopy(adobe, 0, out, 2, adobe.length);
        System.arraycopy(plain, 2, out, 2 + adobe.length, plain.length - 2);
        return out;
    }

    private static byte[] writeJpeg(final IIOImage image) throws IOException
    {
        final Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        while (!writer.getClass().getName().startsWith("com.sun.imageio") && writers.hasNext())
        {
            writer = writers.next();
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out))
        {
            writer.setOutput(stream);
            writer.write(null, image, null);
        }
        finally
        {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
