package io.baton.coordinator.prepare;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ground truth of a flat ILSVRC2012 val folder, in one of two forms:
 * <ul>
 *   <li>{@code LOC_val_solution.csv} (Kaggle): header {@code ImageId,PredictionString}; the first token of
 *   PredictionString is the wnid of the image {@code <ImageId>.JPEG}.</li>
 *   <li>the devkit's {@code ILSVRC2012_validation_ground_truth.txt}: one 1-based ILSVRC class id per line, line i
 *   labelling the i-th val file in sorted name order; plus a mapping file with lines {@code <ILSVRC id> <wnid>}
 *   (blank lines and {@code #} comments ignored; the devkit's meta.mat exported as text).</li>
 * </ul>
 * When no file is given, {@code LOC_val_solution.csv}, then {@code ILSVRC2012_validation_ground_truth.txt} with
 * {@code ILSVRC2012_mapping.txt}, are looked for in the input root. Immutable.
 */
public final class ValLabels
{
    /** Kaggle's val ground truth file name. */
    public static final String LOC_CSV = "LOC_val_solution.csv";
    /** The devkit's val ground truth file name. */
    public static final String DEVKIT_TXT = "ILSVRC2012_validation_ground_truth.txt";
    /** Default name of the ILSVRC id to wnid mapping next to it. */
    public static final String DEVKIT_MAPPING = "ILSVRC2012_mapping.txt";

    private final String layout;
    private final String source;
    private final Map<String, String> byName;
    private final List<String> byPosition;

    private ValLabels(
        final String layout,
        final String source,
        final Map<String, String> byName,
        final List<String> byPosition)
    {
        this.layout = layout;
        this.source = source;
        this.byName = byName;
        this.byPosition = byPosition;
    }

    /** Reads the given ground truth, or finds one in {@code root}; fails naming what was looked for. */
    public static ValLabels find(final FileSystem fs, final Path root, final URI labels, final URI mapping)
        throws IOException
    {
        final Path labelsPath;
        if (labels != null)
        {
            labelsPath = new Path(labels);
        }
        else if (fs.exists(new Path(root, LOC_CSV)))
        {
            labelsPath = new Path(root, LOC_CSV);
        }
        else if (fs.exists(new Path(root, DEVKIT_TXT)))
        {
            labelsPath = new Path(root, DEVKIT_TXT);
        }
        else
        {
            throw new IllegalArgumentException("val folder " + new Path(root, "val") + " has no class folders and "
                + "no ground truth was found: give --val-labels, or put " + LOC_CSV + " or " + DEVKIT_TXT
                + " (with " + DEVKIT_MAPPING + ") in " + root);
        }
        final List<String> lines = readLines(fs, labelsPath);
        if (!lines.isEmpty() && lines.get(0).startsWith("ImageId"))
        {
            final Map<String, String> byName = new HashMap<>();
            for (final String line : lines.subList(1, lines.size()))
            {
                final int comma = line.indexOf(',');
                if (line.isBlank())
                {
                    continue;
                }
                if (comma < 0 || line.substring(comma + 1).isBlank())
                {
                    throw new IllegalArgumentException("bad line in " + labelsPath + ": '" + line + "'");
                }
                byName.put(line.substring(0, comma).trim(), line.substring(comma + 1).trim().split("\\s+")[0]);
            }
            return new ValLabels("loc-csv", labelsPath.toString(), byName, null);
        }
        final Path mappingPath = mapping != null ? new Path(mapping) : new Path(root, DEVKIT_MAPPING);
        if (!fs.exists(mappingPath))
        {
            throw new IllegalArgumentException(labelsPath + " gives ILSVRC class ids; their wnids are needed: give "
                + "--val-mapping (lines '<ILSVRC id> <wnid>') or put " + DEVKIT_MAPPING + " in " + root
                + " (missing: " + mappingPath + ")");
        }
        final Map<Integer, String> wnidOfId = new HashMap<>();
        for (final String line : readLines(fs, mappingPath))
        {
            final String trimmed = line.trim();
            if (trimmed.isEmpty() || trimmed.startsWith("#"))
            {
                continue;
            }
            final String[] parts = trimmed.split("\\s+");
            try
            {
                wnidOfId.put(Integer.parseInt(parts[0]), parts[1]);
            }
            catch (final RuntimeException ex)
            {
                throw new IllegalArgumentException("bad line in " + mappingPath + " (want '<ILSVRC id> <wnid>'): '"
                    + line + "'", ex);
            }
        }
        final List<String> byPosition = new ArrayList<>();
        for (final String line : lines)
        {
            if (line.isBlank())
            {
                continue;
            }
            final String wnid = wnidOfId.get(Integer.parseInt(line.trim()));
            if (wnid == null)
            {
                throw new IllegalArgumentException("ILSVRC id " + line.trim() + " of " + labelsPath
                    + " is not in " + mappingPath);
            }
            byPosition.add(wnid);
        }
        return new ValLabels("devkit", labelsPath + " + " + mappingPath, null, byPosition);
    }

    /** The wnid of each file name (sorted val file names, as listed). */
    public List<String> wnidsOf(final List<String> sortedNames)
    {
        if (byPosition != null)
        {
            if (byPosition.size() != sortedNames.size())
            {
                throw new IllegalArgumentException(source + " labels " + byPosition.size() + " images but the val "
                    + "folder has " + sortedNames.size());
            }
            return byPosition;
        }
        final List<String> out = new ArrayList<>();
        for (final String name : sortedNames)
        {
            final int dot = name.lastIndexOf('.');
            final String wnid = byName.get(dot < 0 ? name : name.substring(0, dot));
            if (wnid == null)
            {
                throw new IllegalArgumentException("val image " + name + " has no line in " + source);
            }
            out.add(wnid);
        }
        return out;
    }

    /**
     * Like {@link #wnidsOf}, but an image without a line in a {@code LOC_val_solution.csv} gets null instead of
     * failing (the devkit's positional ground truth still has to label every image).
     */
    public List<String> wnidsOrNull(final List<String> sortedNames)
    {
        if (byPosition != null)
        {
            return wnidsOf(sortedNames);
        }
        final List<String> out = new ArrayList<>();
        for (final String name : sortedNames)
        {
            final int dot = name.lastIndexOf('.');
            out.add(byName.get(dot < 0 ? name : name.substring(0, dot)));
        }
        return out;
    }

    public String layout()
    {
        return layout;
    }

    public String source()
    {
        return source;
    }

    private static List<String> readLines(final FileSystem fs, final Path path) throws IOException
    {
        try (FSDataInputStream in = fs.open(path))
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }
}
