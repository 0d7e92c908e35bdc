package io.baton.coordinator.prepare;

import io.baton.common.store.HadoopConf;
import io.baton.trainer.data.shard.Manifest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * ImageNet's distribution files as {@code baton prepare}'s input, read in place (no extraction): an input root that
 * holds {@value #TRAIN_TAR} (a tar of one tar per class, {@code <wnid>.tar}) and/or {@value #VAL_TAR} (the flat val
 * images, labelled by {@link ValLabels}) instead of {@code train/} and {@code val/} folders.
 *
 * <p>The tars are only listed, header by header ({@link TarArchiveInputStream} over a positioned stream, member data
 * skipped); each image becomes an {@link InputFile} with the path it has in the extracted tree
 * ({@code train/<wnid>/<name>}, {@code val/<name>}) and its position in the tar, which {@link ShardTaskRunner} reads
 * by position. So the samples, their order and the shards are those of the extracted tree. The class tars are
 * listed by a Spark job, one task per class; the val tar on the driver.
 *
 * <p>Bad input: members that are not images by name are ignored and named, like files of a tree; a member whose
 * data runs past the end of a truncated tar, a tar whose headers stop parsing, and a val image without a line in
 * {@code LOC_val_solution.csv} are skipped and named in the manifest; an empty class tar, a val label that is not a
 * class, or a val tar with no labelled image is refused, naming it.
 */
public final class TarInput
{
    public static final String TRAIN_TAR = "ILSVRC2012_img_train.tar";
    public static final String VAL_TAR = "ILSVRC2012_img_val.tar";

    private final FileSystem fs;
    private final URI root;
    private Listing outer;

    public TarInput(final FileSystem fs, final URI root)
    {
        this.fs = fs;
        this.root = root;
    }

    /** True when {@code root} holds ImageNet's tars and no {@code train/} or {@code val/} folder. */
    public static boolean isTarLayout(final FileSystem fs, final URI root) throws IOException
    {
        final Path dir = new Path(root);
        return !fs.exists(new Path(dir, "train")) && !fs.exists(new Path(dir, "val"))
            && (fs.exists(new Path(dir, TRAIN_TAR)) || fs.exists(new Path(dir, VAL_TAR)));
    }

    /** The sorted class wnids: the names of the class tars in {@value #TRAIN_TAR}. */
    public List<String> classes() throws IOException
    {
        final List<String> wnids = new ArrayList<>();
        for (final Member member : outer().members())
        {
            if (member.file() && isClassTar(member.name()))
            {
                wnids.add(member.baseName().substring(0, member.baseName().length() - ".tar".length()));
            }
        }
        if (wnids.isEmpty())
        {
            throw new IllegalArgumentException("no class tars (<wnid>.tar) in " + new Path(new Path(root), TRAIN_TAR)
                + (outer().error() == null ? "" : ": " + outer().error()));
        }
        wnids.sort(Comparator.naturalOrder());
        return wnids;
    }

    /** The images of {@code split} ({@code train} or {@code val}) in sample-id order. */
    public SplitPlan scan(final JavaSparkContext sc, final String split, final List<String> classes,
        final URI valLabels, final URI valMapping) throws IOException
    {
        if ("train".equals(split))
        {
            return scanTrain(sc, classes);
        }
        if ("val".equals(split))
        {
            return scanVal(classes, valLabels, valMapping);
        }
        throw new IllegalArgumentException("split '" + split + "' has no ImageNet tar; " + root + " holds "
            + TRAIN_TAR + " (train) and " + VAL_TAR + " (val)");
    }

    private SplitPlan scanTrain(final JavaSparkContext sc, final List<String> classes) throws IOException
    {
        final Listing listing = outer();
        final long length = fs.getFileStatus(tar(TRAIN_TAR)).getLen();
        final List<Region> regions = new ArrayList<>();
        final List<String> ignored = new ArrayList<>();
        final List<Manifest.SkippedFile> skipped = new ArrayList<>();
        for (final Member member : listing.members())
        {
            if (member.file() && isClassTar(member.name()))
            {
                final String wnid = member.baseName().substring(0, member.baseName().length() - ".tar".length());
                regions.add(new Region(wnid, member.offset(), Math.min(length, member.offset() + member.size())));
            }
            else if (member.file() && !member.hidden())
            {
                ignored.add(TRAIN_TAR + "/" + member.name());
            }
        }
        if (listing.error() != null)
        {
            skipped.add(new Manifest.SkippedFile(TRAIN_TAR, "unreadable after " + listing.members().size()
                + " members: " + listing.error()));
        }
        final List<Listing> inner = regions.isEmpty() ? List.of()
            : sc.parallelize(regions, regions.size()).map(new RegionLister(root, TRAIN_TAR)).collect();
        final Map<String, Integer> index = Manifest.indexOf(classes);
        final List<InputFile> files = new ArrayList<>();
        for (int r = 0; r < regions.size(); r++)
        {
            final Region region = regions.get(r);
            final Listing members = inner.get(r);
            final int label = index.get(region.wnid());
            final String where = TRAIN_TAR + "/" + region.wnid() + ".tar";
            final int before = files.size();
            for (final Member member : members.members())
            {
                final String path = "train/" + region.wnid() + "/" + member.baseName();
                if (!member.file() || member.hidden())
                {
                    continue;
                }
                if (!InputScanner.isImageName(member.name()))
                {
                    ignored.add(path);
                }
                else if (member.offset() + member.size() > region.end())
                {
                    skipped.add(new Manifest.SkippedFile(path, "truncated: " + where + " ends inside it"));
                }
                else
                {
                    files.add(new InputFile(path, label, member.size(), TRAIN_TAR, member.offset()));
                }
            }
            if (members.error() != null)
            {
                skipped.add(new Manifest.SkippedFile("train/" + region.wnid() + ".tar", "unreadable after "
                    + members.members().size() + " members: " + members.error()));
            }
            else if (files.size() == before && !skipped.stream().anyMatch(s -> s.path().startsWith("train/"
                + region.wnid() + "/")))
            {
                throw new IllegalArgumentException("empty class tar " + where + ": no .JPEG/.jpg/.jpeg/.png members");
            }
        }
        files.sort(Comparator.comparingInt(InputFile::label).thenComparing(InputFile::path));
        ignored.sort(Comparator.naturalOrder());
        return new SplitPlan("train", "class-tars", files, ignored, skipped);
    }

    private SplitPlan scanVal(final List<String> classes, final URI valLabels, final URI valMapping)
        throws IOException
    {
        final Path path = tar(VAL_TAR);
        if (!fs.exists(path))
        {
            throw new IllegalArgumentException("no " + VAL_TAR + " in " + root + " for the val split");
        }
        final long length = fs.getFileStatus(path).getLen();
        final Listing listing;
        try (FSDataInputStream in = fs.open(path))
        {
            listing = list(in, 0, length);
        }
        final List<Member> images = new ArrayList<>();
        final List<String> ignored = new ArrayList<>();
        final List<Manifest.SkippedFile> skipped = new ArrayList<>();
        for (final Member member : listing.members())
        {
            if (!member.file() || member.hidden())
            {
                continue;
            }
            if (!InputScanner.isImageName(member.name()))
            {
                ignored.add("val/" + member.baseName());
            }
            else if (member.offset() + member.size() > length)
            {
                skipped.add(new Manifest.SkippedFile("val/" + member.baseName(), "truncated: " + VAL_TAR
                    + " ends inside it"));
            }
            else
            {
                images.add(member);
            }
        }
        if (listing.error() != null)
        {
            skipped.add(new Manifest.SkippedFile(VAL_TAR, "unreadable after " + listing.members().size()
                + " members: " + listing.error()));
        }
        if (images.isEmpty())
        {
            throw new IllegalArgumentException("no images in " + path);
        }
        images.sort(Comparator.comparing(Member::baseName));
        final ValLabels labels = ValLabels.find(fs, new Path(root), valLabels, valMapping);
        final List<String> names = images.stream().map(Member::baseName).toList();
        final List<String> wnids = labels.wnidsOrNull(names);
        final Map<String, Integer> index = Manifest.indexOf(classes);
        final List<InputFile> files = new ArrayList<>();
        for (int i = 0; i < images.size(); i++)
        {
            final String name = "val/" + names.get(i);
            if (wnids.get(i) == null)
            {
                skipped.add(new Manifest.SkippedFile(name, "no label in " + labels.source()));
                continue;
            }
            final Integer label = index.get(wnids.get(i));
            if (label == null)
            {
                throw new IllegalArgumentException("val image " + VAL_TAR + "/" + images.get(i).name()
                    + " is labelled " + wnids.get(i) + " by " + labels.source() + ", which is not a class tar of "
                    + TRAIN_TAR);
            }
            files.add(new InputFile(name, label, images.get(i).size(), VAL_TAR, images.get(i).offset()));
        }
        if (files.isEmpty())
        {
            throw new IllegalArgumentException("no image of " + path + " has a label in " + labels.source());
        }
        files.sort(Comparator.comparingInt(InputFile::label).thenComparing(InputFile::path));
        ignored.sort(Comparator.naturalOrder());
        return new SplitPlan("val", "tar+" + labels.layout(), files, ignored, skipped);
    }

    private Listing outer() throws IOException
    {
        if (outer == null)
        {
            final Path path = tar(TRAIN_TAR);
            if (!fs.exists(path))
            {
                throw new IllegalArgumentException("no " + TRAIN_TAR + " in " + root + ": its class tars are the "
                    + "class list");
            }
            try (FSDataInputStream in = fs.open(path))
            {
                outer = list(in, 0, fs.getFileStatus(path).getLen());
            }
        }
        return outer;
    }

    private Path tar(final String name)
    {
        return new Path(new Path(root), name);
    }

    private static boolean isClassTar(final String name)
    {
        final String base = name.substring(name.lastIndexOf('/') + 1);
        return base.endsWith(".tar") && base.length() > ".tar".length() && !base.startsWith(".");
    }

    /**
     * The members of the tar stored in bytes [start, end) of {@code in}, in tar order, with the position of each
     * one's data in {@code in}; the data is skipped, not read. Stops at the first header that does not parse (or at
     * the end of a truncated tar), with the reason in {@link Listing#error()}.
     */
    static Listing list(final FSDataInputStream in, final long start, final long end) throws IOException
    {
        in.seek(start);
        final Counting counting = new Counting(in, end - start);
        final List<Member> members = new ArrayList<>();
        String error = null;
        try (TarArchiveInputStream tar = new TarArchiveInputStream(counting))
        {
            TarArchiveEntry entry;
            while ((entry = tar.getNextTarEntry()) != null)
            {
                members.add(new Member(entry.getName(), start + counting.position(), entry.getSize(), entry.isFile()));
            }
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            error = String.valueOf(ex.getMessage());
        }
        return new Listing(members, error);
    }

    /**
     * One tar member.
     *
     * @param name   its name in the tar.
     * @param offset position of its first data byte in the file.
     * @param size   data bytes.
     * @param file   a regular file (not a directory or link).
     */
    record Member(String name, long offset, long size, boolean file) implements Serializable
    {
        String baseName()
        {
            return name.substring(name.lastIndexOf('/') + 1);
        }

        boolean hidden()
        {
            return baseName().startsWith(".");
        }
    }

    /**
     * A tar's members, and why the listing stopped early (null when it reached the end).
     *
     * @param members the members listed.
     * @param error   null, or the reason the rest could not be listed.
     */
    record Listing(List<Member> members, String error) implements Serializable
    {
    }

    /** A class tar inside the train tar: bytes [start, end) of the file (end cut at the file's end). */
    record Region(String wnid, long start, long end) implements Serializable
    {
    }

    /** Lists one class tar in a Spark task. */
    private static final class RegionLister implements Function<Region, Listing>
    {
        private static final long serialVersionUID = 1L;
        private final URI root;
        private final String tar;

        RegionLister(final URI root, final String tar)
        {
            this.root = root;
            this.tar = tar;
        }

        @Override
        public Listing call(final Region region) throws IOException
        {
            final FileSystem fs = FileSystem.get(root, HadoopConf.fresh());
            try (FSDataInputStream in = fs.open(new Path(new Path(root), tar)))
            {
                return list(in, region.start(), region.end());
            }
        }
    }

    /** Counts the bytes read or skipped; reads nothing past {@code limit}. */
    private static final class Counting extends FilterInputStream
    {
        private final long limit;
        private long position;

        Counting(final InputStream in, final long limit)
        {
            super(in);
            this.limit = limit;
        }

        long position()
        {
            return position;
        }

        @Override
        public int read() throws IOException
        {
            if (position >= limit)
            {
                return -1;
            }
            final int b = in.read();
            if (b >= 0)
            {
                position++;
            }
            return b;
        }

        @Override
        public int read(final byte[] b, final int off, final int len) throws IOException
        {
            if (position >= limit)
            {
                return -1;
            }
            final int n = in.read(b, off, (int)Math.min(len, limit - position));
            if (n > 0)
            {
                position += n;
            }
            return n;
        }

        @Override
        public long skip(final long n) throws IOException
        {
            final long skipped = in.skip(Math.min(n, limit - position));
            position += Math.max(0, skipped);
            return skipped;
        }

        @Override
        public int available() throws IOException
        {
            return (int)Math.min(in.available(), limit - position);
        }

        @Override
        public void close()
        {
            // the caller closes the file
        }
    }
}
