package io.baton.coordinator.cli;

import io.baton.coordinator.demo.DemoImages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code baton demo}: the whole path on this machine in a few minutes — generate a small learnable image set in
 * ImageNet layout, {@code prepare} it, {@code train} a ResNet-20 with 2 SyncBatchNorm replicas on local Spark,
 * {@code evaluate} it, and say where everything went. Runs the same subcommands a user would.
 */
@Command(name = "demo", description = "Generate a small data set, prepare it, train 2 replicas, evaluate.")
public final class DemoCommand implements Callable<Integer>
{
    /** Marks a folder as the demo's own (see {@link #claim}). */
    static final String MARKER = ".baton-demo";
    private static final Set<String> DEMO_ENTRIES = Set.of("images", "prepared", "run", "demo.conf");

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-out", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--classes", defaultValue = "10", description = "Classes to generate (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--train-per-class", defaultValue = "96", description = "Training images per class (default: ${DEFAULT-VALUE}).")
    int trainPerClass;

    @Option(names = "--val-per-class", defaultValue = "24", description = "Validation images per class (default: ${DEFAULT-VALUE}).")
    int valPerClass;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a training key (repeatable), e.g. train.epochs=2.")
    List<String> overrides = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException
    {
        if (classes < 2 || trainPerClass < 1 || valPerClass < 1)
        {
            throw new IllegalArgumentException("need --classes >= 2 and at least one image per class and split, got "
                + "classes=" + classes + " train-per-class=" + trainPerClass + " val-per-class=" + valPerClass);
        }
        final PrintWriter console = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final Path root = out.toAbsolutePath();
        final Path images = root.resolve("images");
        final Path prepared = root.resolve("prepared");
        final Path run = root.resolve("run");
        final Path jobConfig = root.resolve("demo.conf");
        claim(root);
        copyDemoConfig(jobConfig);

        console.printf("[1/5] generating %d classes x (%d train + %d val) images in %s%n", classes, trainPerClass,
            valPerClass, images);
        console.flush();
        // Each demo starts afresh (a finished run would otherwise be resumed at its end and train nothing).
        for (final Path previous : List.of(images, run))
        {
            if (Files.exists(previous))
            {
                deleteTree(previous);
            }
        }
        DemoImages.write(images, 7, classes, trainPerClass, valPerClass, 40);

        console.printf("[2/5] baton prepare %s %s%n", images, prepared);
        console.flush();
        step(console, err, "prepare", images.toString(), prepared.toString(), "--overwrite");

        console.printf("[3/5] baton train -c %s --data %s --run-dir %s%n", jobConfig, prepared, run);
        console.flush();
        final List<String> train = new ArrayList<>(List.of("train", "-c", jobConfig.toString(), "--data",
            prepared.toString(), "--run-dir", run.toString()));
        overrides.forEach(o -> train.addAll(List.of("--set", o)));
        step(console, err, train.toArray(new String[0]));

        console.printf("[4/5] baton evaluate --model %s%n", run);
        console.flush();
        step(console, err, "evaluate", "--model", run.toString());

        console.printf("[5/5] baton report %s%n", run);
        console.flush();
        step(console, err, "report", run.toString());

        console.println();
        console.println("demo finished; everything is under " + root);
        console.println("  images:        " + images + " (ImageNet layout)");
        console.println("  prepared data: " + prepared + " (shards + manifest.json)");
        console.println("  run:           " + run + " (metrics.jsonl, health.jsonl, checkpoints/, model.zip, summary.json)");
        console.println("  report:        " + run.resolve("report.html") + " (open it in a browser)");
        console.println("  job config:    " + jobConfig);
        console.flush();
        return 0;
    }

    /**
     * Makes {@code root} the demo's folder, refusing a folder that holds anything else: the demo deletes and
     * rewrites its images/, prepared/, run/ and demo.conf there. A folder with the marker file (or holding only what
     * an earlier demo writes) is a demo's.
     */
    static void claim(final Path root) throws IOException
    {
        if (Files.exists(root) && !Files.isDirectory(root))
        {
            throw new IllegalArgumentException("--out " + root + " is a file, not a folder");
        }
        final Path marker = root.resolve(MARKER);
        if (Files.isDirectory(root) && !Files.exists(marker))
        {
            try (var entries = Files.list(root))
            {
                final List<String> foreign = entries.map(p -> p.getFileName().toString())
                    .filter(name -> !DEMO_ENTRIES.contains(name)).sorted().toList();
                if (!foreign.isEmpty())
                {
                    throw new IllegalArgumentException("--out " + root + " holds files the demo did not write ("
                        + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                        + (foreign.size() > 5 ? ", ..." : "") + "), and the demo replaces its images/, prepared/ "
                        + "and run/ there; choose a new or empty folder");
                }
            }
        }
        Files.createDirectories(root);
        Files.writeString(marker, "written by baton demo: a later 'baton demo --out' here replaces images/, "
            + "prepared/, run/ and demo.conf\n");
    }

    private static void step(final PrintWriter out, final PrintWriter err, final String... args)
    {
        final int code = BatonCli.run(args, out, err);
        if (code != 0)
        {
            throw new IllegalStateException("demo step 'baton " + String.join(" ", args) + "' failed with exit code "
                + code + " (see the messages above)");
        }
    }

    private static void copyDemoConfig(final Path target) throws IOException
    {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/io/baton/coordinator/demo.conf"))
        {
            if (in == null)
            {
                throw new IllegalStateException("demo.conf missing from the class path (conf/demo.conf)");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteTree(final Path dir) throws IOException
    {
        try (var paths = Files.walk(dir))
        {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p ->
            {
                try
                {
                    Files.delete(p);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            });
        }
    }
}
