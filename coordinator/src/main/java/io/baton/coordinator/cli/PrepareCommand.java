package io.baton.coordinator.cli;

import io.baton.common.config.BatonConfig;
import io.baton.coordinator.CoordinatorKeys;
import io.baton.coordinator.prepare.PrepareJob;
import io.baton.coordinator.prepare.PrepareOptions;
import io.baton.coordinator.prepare.TableInput;
import io.baton.trainer.data.shard.Manifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code baton prepare INPUT OUTPUT}: shards an ImageNet-layout tree, ImageNet's tar files read in place, or a table
 * ({@code --format parquet|orc|binaryFile|image}, {@link TableInput}), into
 * indexed shard files plus a manifest, as a Spark job. Flags map to the {@code prepare.*} keys. The last line is
 * {@code samples=<train count>,<val count>...}.
 */
@Command(name = "prepare", description = "Shard an ImageNet-layout image tree (train/<wnid>/*.JPEG, val/...), "
    + "ImageNet's own ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar read in place, or a table with an image and "
    + "a label column (--format parquet|orc|binaryFile|image) for training; input and output on any Hadoop file "
    + "system (file://, hdfs://).")
public final class PrepareCommand implements Callable<Integer>
{
    @Mixin
    ConfigOptions config;

    @Parameters(index = "0", paramLabel = "INPUT", description = "Input root URI or path: holds "
        + "train/ and val/, or ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar and the val labels "
        + "(LOC_val_solution.csv or the devkit's).")
    String input;

    @Parameters(index = "1", paramLabel = "OUTPUT", description = "Output root URI or path.")
    String output;

    @Option(names = "--splits", split = ",", defaultValue = "train,val", paramLabel = "S1,S2",
        description = "Splits to prepare (default: ${DEFAULT-VALUE}).")
    List<String> splits;

    @Option(names = "--val-labels", paramLabel = "FILE", description = "Ground truth of a flat val/: "
        + "LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt (default: looked for in INPUT).")
    String valLabels;

    @Option(names = "--val-mapping", paramLabel = "FILE", description = "'<ILSVRC id> <wnid>' per line, for the "
        + "devkit ground truth (default: INPUT/ILSVRC2012_mapping.txt).")
    String valMapping;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (overrides cluster.master; "
        + "default local[*], embedded).")
    String master;

    @Option(names = "--shard-size", paramLabel = "SIZE", description = "Input bytes per shard, e.g. 1g "
        + "(overrides prepare.shard-size).")
    String shardSize;

    @Option(names = "--resize", paramLabel = "S", description = "Shrink images so the shorter side is <= S "
        + "(overrides prepare.resize-shorter-side; 0 = keep).")
    Integer resize;

    @Option(names = "--quality", paramLabel = "Q", description = "JPEG quality of resized images "
        + "(overrides prepare.jpeg-quality).")
    Integer quality;

    @Option(names = "--overwrite", description = "Replace an existing output.")
    boolean overwrite;

    @Option(names = "--format", paramLabel = "F", description = "What INPUT is: tree (an image tree or ImageNet's "
        + "tars), parquet, orc, binaryFile or image (Spark's sources, read recursively). Default: parquet or orc by "
        + "INPUT's extension, else tree.")
    String format;

    @Option(names = "--image-col", paramLabel = "COL", description = "Table image column: binary (encoded bytes), "
        + "string (a path on any Hadoop FS) or Spark's image struct (default: image; binaryFile: content).")
    String imageCol;

    @Option(names = "--label-col", paramLabel = "COL", description = "Table label column: string (class names, "
        + "sorted) or integer (class index) (default: label; binaryFile and image: the parent folder's name).")
    String labelCol;

    @Option(names = "--name-col", paramLabel = "COL", description = "Table column naming each image, which orders "
        + "a class's samples (default: the path; binaryFile: path; image: origin; bytes: their SHA-256).")
    String nameCol;

    @Option(names = "--split-col", paramLabel = "COL", description = "Table column naming each row's split (default: "
        + "one folder per split, INPUT/<split>).")
    String splitCol;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception
    {
        final List<String> extra = new ArrayList<>();
        if (master != null)
        {
            extra.add("cluster.master=\"" + master + "\"");
        }
        if (shardSize != null)
        {
            extra.add("prepare.shard-size=" + shardSize);
        }
        if (resize != null)
        {
            extra.add("prepare.resize-shorter-side=" + resize);
        }
        if (quality != null)
        {
            extra.add("prepare.jpeg-quality=" + quality);
        }
        final BatonConfig loaded = config.load(extra);
        final PrepareOptions options = new PrepareOptions(uri(input), uri(output), List.copyOf(splits),
            valLabels == null ? null : uri(valLabels), valMapping == null ? null : uri(valMapping),
            masterOrLocal(loaded.get(CoordinatorKeys.CLUSTER_MASTER)),
            loaded.get(CoordinatorKeys.PREPARE_SHARD_SIZE),
            loaded.get(CoordinatorKeys.PREPARE_RESIZE_SHORTER_SIDE), loaded.get(CoordinatorKeys.PREPARE_JPEG_QUALITY),
            loaded.get(CoordinatorKeys.PREPARE_KEEP_PATHS), overwrite);
        final TableInput tables = tableInput(options.input());
        final PrepareJob job = new PrepareJob(options, spec.commandLine().getOut());
        final Manifest manifest = tables == null ? job.run() : job.run(tables);
        final StringBuilder counts = new StringBuilder("samples=");
        manifest.splits().forEach((name, split) -> counts.append(counts.length() > 8 ? "," : "").append(name)
            .append(':').append(split.count()));
        spec.commandLine().getOut().println(counts);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The table input the flags describe, or null for a tree; refuses table flags without a table format. */
    private TableInput tableInput(final URI in)
    {
        final String chosen = format != null ? format : TableInput.formatOf(in);
        if (chosen == null || "tree".equals(chosen))
        {
            for (final String[] flag : new String[][] {{"--image-col", imageCol}, {"--label-col", labelCol},
                {"--name-col", nameCol}, {"--split-col", splitCol}})
            {
                if (flag[1] != null)
                {
                    throw new IllegalArgumentException(flag[0] + " reads a table: give --format "
                        + String.join("|", TableInput.FORMATS) + " (INPUT " + in + " is read as an image tree)");
                }
            }
            return null;
        }
        if (!TableInput.FORMATS.contains(chosen))
        {
            throw new IllegalArgumentException("--format " + chosen + " is not one of tree, "
                + String.join(", ", TableInput.FORMATS));
        }
        return new TableInput(chosen, TableInput.defaults(chosen, imageCol, labelCol, nameCol), splitCol);
    }

    private static String masterOrLocal(final String configured)
    {
        return configured == null ? "local[*]" : configured;
    }

    /** A URI as given, or a local path made absolute ({@code file://}). */
    static URI uri(final String text)
    {
        final URI parsed = URI.create(text.replace(" ", "%20"));
        return parsed.getScheme() != null && parsed.getScheme().length() > 1
            ? parsed
            : java.nio.file.Path.of(text).toAbsolutePath().normalize().toUri();
    }
}
