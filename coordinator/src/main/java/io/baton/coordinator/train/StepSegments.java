package io.baton.coordinator.train;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A run's step-keyed JSON-lines file ({@code metrics.jsonl}, {@code health.jsonl}) on a store that cannot append
 * (S3A and other object stores): the lines go to segment files in {@code <name>.segments/}, which readers join.
 *
 * <p>Each stage writes its own segments, named {@code stage-<S>-from-<P>-part-<K>.jsonl}: S counts the stages of the
 * run, P is the step the stage (re)starts from (the checkpoint it resumes from; 0 for the initial weights) and K
 * counts the stage's parts. Part 0 is written empty when the stage opens, so the stage's start is on the store before
 * any of its steps. A store that shows a file only once it is closed (an object's PUT) would show nothing of a part
 * still open, so a part is closed and the next one started once it is {@code rollEvery} old.
 *
 * <p>Readers join the files in order: the single file of a run written where append works (or before segments
 * existed), then stage by stage. When a stage starts from step P, the lines before it of steps >= P belong to a
 * trajectory that no longer exists and are dropped, from the end back to the last line of a step before P — exactly
 * what {@link StepLines} cuts from an appended file. So readers see one line per step of the surviving trajectory,
 * in order. A half-written last line of a part (a crashed writer) is dropped, except at the very end, where it is
 * left for the reader to report as partial.
 *
 * <p>Threading: one writer (rank 0), any number of readers.
 */
public final class StepSegments
{
    /** How long a part stays open on a store that shows files only once closed. */
    public static final Duration ROLL_EVERY = Duration.ofSeconds(10);

    private static final String SUFFIX = ".segments";
    private static final Pattern NAME = Pattern.compile("stage-(\\d{6})-from-(\\d{12,19})-part-(\\d{6})\\.jsonl");
    private static final Pattern STEP = Pattern.compile("\"step\"\\s*:\\s*(-?\\d+)");

    private StepSegments()
    {
    }

    /** One segment file, by its name's numbers. */
    record Segment(Path path, int stage, long from, int part) implements Comparable<Segment>
    {
        @Override
        public int compareTo(final Segment o)
        {
            return stage != o.stage ? Integer.compare(stage, o.stage) : Integer.compare(part, o.part);
        }
    }

    /** The directory of {@code name}'s segments. */
    public static Path directory(final RunDirectory run, final String name)
    {
        return run.path(name + SUFFIX);
    }

    /** The name of {@code name}'s segment directory (for moving a run's files aside). */
    public static String directoryName(final String name)
    {
        return name + SUFFIX;
    }

    static String fileName(final int stage, final long from, final int part)
    {
        return String.format("stage-%06d-from-%012d-part-%06d.jsonl", stage, from, part);
    }

    /** The segments of {@code name}, in order; empty when there are none. */
    static List<Segment> list(final FileSystem fs, final Path dir) throws IOException
    {
        final List<Segment> segments = new ArrayList<>();
        final FileStatus[] statuses;
        try
        {
            statuses = fs.listStatus(dir);
        }
        catch (final FileNotFoundException ex)
        {
            return segments;
        }
        for (final FileStatus status : statuses)
        {
            final Matcher m = NAME.matcher(status.getPath().getName());
            if (status.isFile() && m.matches())
            {
                segments.add(new Segment(status.getPath(), Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)),
                    Integer.parseInt(m.group(3))));
            }
        }
        segments.sort(null);
        return segments;
    }

    /** The names of {@code name}'s segments now (a reader that wants only later ones skips these). */
    public static Set<String> names(final RunDirectory run, final String name) throws IOException
    {
        final Set<String> names = new java.util.HashSet<>();
        for (final Segment s : list(run.fileSystem(), directory(run, name)))
        {
            names.add(s.path().getName());
        }
        return names;
    }

    /**
     * Opens a stage's segments for writing: a fresh run's ({@code !append}) removes the earlier single file and
     * segments first; a resumed one starts its stage from {@code max(0, checkpointStep)}.
     */
    static Writer open(final RunDirectory run, final String name, final boolean append, final long checkpointStep,
        final Duration rollEvery) throws IOException
    {
        final FileSystem fs = run.fileSystem();
        final Path dir = directory(run, name);
        if (!append)
        {
            fs.delete(dir, true);
            fs.delete(run.path(name), false);
        }
        final List<Segment> existing = list(fs, dir);
        final int stage = existing.isEmpty() ? 0 : existing.get(existing.size() - 1).stage() + 1;
        final long from = append ? Math.max(0, checkpointStep) : 0;
        return new Writer(fs, dir, stage, from, rollEvery);
    }

    /**
     * The joined text of {@code name}: its single file (if any), then its segments, with the lines of steps a later
     * stage restarted before dropped; null when neither exists.
     */
    public static String read(final RunDirectory run, final String name) throws IOException
    {
        final FileSystem fs = run.fileSystem();
        final Path single = run.path(name);
        final List<Segment> segments = list(fs, directory(run, name));
        final boolean hasSingle = fs.exists(single);
        if (segments.isEmpty())
        {
            return hasSingle ? text(fs, single) : null;
        }
        final List<String> kept = new ArrayList<>();
        String partial = hasSingle ? addLines(kept, text(fs, single)) : "";
        int stage = -1;
        for (final Segment s : segments)
        {
            if (s.stage() != stage)
            {
                stage = s.stage();
                cut(kept, s.from());
            }
            partial = addLines(kept, text(fs, s.path()));
        }
        final StringBuilder out = new StringBuilder();
        for (final String line : kept)
        {
            out.append(line).append('\n');
        }
        return out.append(partial).toString();
    }

    /**
     * The newest complete line of {@code name} that the joined text would end with, skipping the segments named in
     * {@code skip}; null when there is none. Reads only the newest segments, not the whole history.
     */
    public static String lastLine(final RunDirectory run, final String name, final Collection<String> skip)
        throws IOException
    {
        final FileSystem fs = run.fileSystem();
        final List<Segment> segments = list(fs, directory(run, name));
        long before = Long.MAX_VALUE;
        int stage = -1;
        for (int i = segments.size() - 1; i >= 0; i--)
        {
            final Segment s = segments.get(i);
            if (s.stage() != stage)
            {
                if (stage >= 0)
                {
                    before = Math.min(before, segments.get(i + 1).from());
                }
                stage = s.stage();
            }
            if (skip.contains(s.path().getName()))
            {
                continue;
            }
            final List<String> lines = new ArrayList<>();
            addLines(lines, text(fs, s.path()));
            for (int j = lines.size() - 1; j >= 0; j--)
            {
                final long step = step(lines.get(j));
                if (step >= 0 && step < before)
                {
                    return lines.get(j);
                }
            }
        }
        return null;
    }

    /** Drops trailing lines back to the last one of a step before {@code from}. */
    private static void cut(final List<String> lines, final long from)
    {
        while (!lines.isEmpty())
        {
            final long step = step(lines.get(lines.size() - 1));
            if (step >= 0 && step < from)
            {
                return;
            }
            lines.remove(lines.size() - 1);
        }
    }

    /** Adds the complete non-blank lines of {@code text}; returns its unterminated last line ("" if none). */
    private static String addLines(final List<String> lines, final String text)
    {
        final int end = text.lastIndexOf('\n');
        if (end >= 0)
        {
            for (final String line : text.substring(0, end).split("\n"))
            {
                if (!line.isBlank())
                {
                    lines.add(line);
                }
            }
        }
        return text.substring(end + 1);
    }

    private static long step(final String line)
    {
        final Matcher m = STEP.matcher(line);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static String text(final FileSystem fs, final Path file) throws IOException
    {
        try (FSDataInputStream in = fs.open(file))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (final FileNotFoundException ex)
        {
            return ""; // removed between the listing and the read: a fresh run started
        }
    }

    /** Writes one stage's parts; a part is closed once {@code rollEvery} old (checked after each line). */
    static final class Writer implements AutoCloseable
    {
        private final FileSystem fs;
        private final Path dir;
        private final int stage;
        private final long from;
        private final long rollEveryNs;
        private int part;
        private FSDataOutputStream out;
        private long openedNs;

        private Writer(final FileSystem fs, final Path dir, final int stage, final long from, final Duration rollEvery)
            throws IOException
        {
            this.fs = fs;
            this.dir = dir;
            this.stage = stage;
            this.from = from;
            this.rollEveryNs = rollEvery.toNanos();
            fs.mkdirs(dir);
            fs.create(new Path(dir, fileName(stage, from, 0)), false).close();
        }

        /** Writes one line (without its newline). */
        void write(final String line) throws IOException
        {
            if (out == null)
            {
                part++;
                out = fs.create(new Path(dir, fileName(stage, from, part)), false);
                openedNs = System.nanoTime();
            }
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.hflush();
            if (System.nanoTime() - openedNs >= rollEveryNs)
            {
                closePart();
            }
        }

        private void closePart() throws IOException
        {
            if (out != null)
            {
                final FSDataOutputStream closing = out;
                out = null;
                closing.close();
            }
        }

        @Override
        public void close() throws IOException
        {
            closePart();
        }
    }
}
