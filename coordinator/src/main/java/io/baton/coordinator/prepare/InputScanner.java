package io.baton.coordinator.prepare;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Lists an ImageNet-layout input tree on a Hadoop file system and assigns labels.
 *
 * <ul>
 *   <li>{@code train/<wnid>/*.{JPEG,jpg,jpeg,png}} (any case): the class list is the sorted wnid folders of
 *   {@code train/} (of {@code val/} when there is no {@code train/}), as torchvision's ImageFolder sorts them.</li>
 *   <li>{@code val/} with class folders: labelled like train; every wnid must be a known class.</li>
 *   <li>{@code val/} flat: labels from {@link ValLabels} (a {@code LOC_val_solution.csv}, or the devkit's
 *   {@code ILSVRC2012_validation_ground_truth.txt} with a mapping file).</li>
 * </ul>
 * A missing split folder, an empty class folder or an unlabelled val image is an error naming the path. Hidden
 * entries (names starting with '.': {@code .ipynb_checkpoints/}, macOS's {@code .DS_Store} and {@code ._x.JPEG}
 * resource forks) are neither classes nor images. Stateless.
 */
public final class InputScanner
{
    private final FileSystem fs;
    private final Path root;

    public InputScanner(final FileSystem fs, final URI root)
    {
        this.fs = fs;
        this.root = new Path(root);
    }

    /** True for the image file names prepare reads: .jpeg, .jpg, .png in any case. */
    public static boolean isImageName(final String name)
    {
        final String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".jpeg") || lower.endsWith(".jpg") || lower.endsWith(".png");
    }

    /** The sorted class wnids. */
    public List<String> classes() throws IOException
    {
        final Path train = new Path(root, "train");
        final Path folder = fs.exists(train) ? train : new Path(root, "val");
        final List<String> wnids = new ArrayList<>();
        for (final FileStatus status : list(folder))
        {
            if (status.isDirectory())
            {
                wnids.add(status.getPath().getName());
            }
        }
        if (wnids.isEmpty())
        {
            throw new IllegalArgumentException("no class folders in " + folder + " (expected " + folder
                + "/<wnid>/*.JPEG)");
        }
        wnids.sort(Comparator.naturalOrder());
        return wnids;
    }

    /** The files of {@code split} in sample-id order. */
    public SplitPlan scan(final String split, final List<String> classes, final URI valLabels, final URI valMapping)
        throws IOException
    {
        final Path dir = new Path(root, split);
        final FileStatus[] children = list(dir);
        final boolean classFolders = Arrays.stream(children).anyMatch(FileStatus::isDirectory);
        if (classFolders)
        {
            final List<String> ignored = new ArrayList<>();
            final List<InputFile> files = classFolderFiles(dir, children, classes, ignored);
            return new SplitPlan(split, "class-folders", files, sorted(ignored));
        }
        if ("train".equals(split))
        {
            throw new IllegalArgumentException("no class folders in " + dir);
        }
        final ValLabels labels = ValLabels.find(fs, root, valLabels, valMapping);
        final List<FileStatus> images = new ArrayList<>();
        final List<String> ignored = new ArrayList<>();
        for (final FileStatus status : children)
        {
            if (status.isFile() && isImageName(status.getPath().getName()))
            {
                images.add(status);
            }
            else if (status.isFile() && !isLabelFile(status.getPath().getName()))
            {
                ignored.add(split + "/" + status.getPath().getName());
            }
        }
        if (images.isEmpty())
        {
            throw new IllegalArgumentException("no images in " + dir);
        }
        images.sort(Comparator.comparing(s -> s.getPath().getName()));
        final List<String> names = images.stream().map(s -> s.getPath().getName()).toList();
        final List<String> wnids = labels.wnidsOf(names);
        final Map<String, Integer> index = io.baton.trainer.data.shard.Manifest.indexOf(classes);
        final List<InputFile> files = new ArrayList<>();
        for (int i = 0; i < images.size(); i++)
        {
            final Integer label = index.get(wnids.get(i));
            if (label == null)
            {
                throw new IllegalArgumentException("val image " + images.get(i).getPath() + " is labelled "
                    + wnids.get(i) + " by " + labels.source() + ", which is not a class folder of train/");
            }
            files.add(new InputFile(split + "/" + names.get(i), label, images.get(i).getLen()));
        }
        files.sort(Comparator.comparingInt(InputFile::label).thenComparing(InputFile::path));
        return new SplitPlan(split, labels.layout(), files, sorted(ignored));
    }

    private List<InputFile> classFolderFiles(final Path dir, final FileStatus[] children, final List<String> classes,
        final List<String> ignored) throws IOException
    {
        final Map<String, Integer> index = io.baton.trainer.data.shard.Manifest.indexOf(classes);
        final List<InputFile> files = new ArrayList<>();
        final List<FileStatus> folders = new ArrayList<>(Arrays.stream(children).filter(FileStatus::isDirectory)
            .toList());
        folders.sort(Comparator.comparing(s -> s.getPath().getName()));
        for (final FileStatus folder : folders)
        {
            final String wnid = folder.getPath().getName();
            final Integer label = index.get(wnid);
            if (label == null)
            {
                throw new IllegalArgumentException("class folder " + folder.getPath() + " is not a class of train/ "
                    + "(" + classes.size() + " classes)");
            }
            final List<InputFile> inClass = new ArrayList<>();
            for (final FileStatus file : visible(fs.listStatus(folder.getPath())))
            {
                final String path = dir.getName() + "/" + wnid + "/" + file.getPath().getName();
                if (file.isFile() && isImageName(file.getPath().getName()))
                {
                    inClass.add(new InputFile(path, label, file.getLen()));
                }
                else if (file.isFile())
                {
                    ignored.add(path);
                }
            }
            if (inClass.isEmpty())
            {
                throw new IllegalArgumentException("empty class folder " + folder.getPath()
                    + ": no .JPEG/.jpg/.jpeg/.png files");
            }
            inClass.sort(Comparator.comparing(InputFile::path));
            files.addAll(inClass);
        }
        return files;
    }

    private static List<String> sorted(final List<String> paths)
    {
        paths.sort(Comparator.naturalOrder());
        return paths;
    }

    /** Label files that may sit in a flat val/ folder beside the images. */
    private static boolean isLabelFile(final String name)
    {
        final String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".csv") || lower.endsWith(".txt");
    }

    /** Without hidden entries: tools leave them in image trees, and they are no class or image. */
    private static FileStatus[] visible(final FileStatus[] statuses)
    {
        return Arrays.stream(statuses).filter(s -> !s.getPath().getName().startsWith(".")).toArray(FileStatus[]::new);
    }

    private FileStatus[] list(final Path dir) throws IOException
    {
        try
        {
            if (!fs.getFileStatus(dir).isDirectory())
            {
                throw new IllegalArgumentException("split folder " + dir + " is not a directory");
            }
            return visible(fs.listStatus(dir));
        }
        catch (final FileNotFoundException ex)
        {
            throw new IllegalArgumentException("missing split folder " + dir, ex);
        }
    }
}
