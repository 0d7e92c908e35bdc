package io.baton.coordinator.chaos;

import io.baton.common.checkpoint.CheckpointStore;
import io.baton.coordinator.spark.LocalCluster;
import io.baton.trainer.run.ReplicaState;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The chaos runner ({@code bench/chaos/run.sh}): one uninterrupted reference run of a short {@code baton train} on a
 * multi-JVM Spark ({@code local-cluster[2,1,1536]}, each replica its own executor JVM), then N trials of the same run,
 * each injecting faults chosen from a seeded random generator (trial i draws from {@code Random(seed * 1000003 + i)},
 * so a trial is reproducible on its own) at a random step and a random moment within the step. The moment is a
 * {@code debug.fault-points} point ({@link io.baton.coordinator.train.FaultPointSpec}): the replica writes a marker and
 * pauses there, and the runner injects the fault while it is paused, so the fault lands in that phase.
 *
 * <p>Verdict: the final checkpoint's parameters (with BN statistics) and momentum byte-identical to the reference's;
 * for a fault that makes completion impossible (a full disk), the driver's one-line error naming the cause, then a
 * rerun after the cause is removed, identical. A fault the runner cannot inject here is reported as not injected.
 * Exit status 0 only when every trial that was injected is identical and none was left uninjected.
 *
 * <p>Usage: {@code ChaosRunner WORK_DIR TRIALS SEED [FIRST_TRIAL|TRIAL,TRIAL...] [FAULT,FAULT...]}; a list of trial
 * numbers runs just those trials of the seed (TRIALS is then ignored), e.g. to repeat some after a change.
 */
public final class ChaosRunner
{
    static final int TOTAL_STEPS = 24;
    private static final String[] KEYS = {
        "model.arch=resnet20", "data.image-size=16", "data.synthetic-classes=4", "data.synthetic-samples=32",
        "data.synthetic-val-samples=8", "train.global-batch=8", "train.replicas=2", "train.epochs=6",
        "optim.base-lr=0.05", "optim.base-batch=8", "optim.warmup-epochs=0.5", "optim.decay-epochs=[3]",
        "collective.host=127.0.0.1", "collective.timeout=8s", "checkpoint.every=3", "checkpoint.keep-last=10",
        "progress.interval=1s", "cluster.slot-wait=120s", "recovery.backoff=1s", "recovery.max-restarts=3",
        "debug.fault-point-pause=3s"};
    /** Small all-reduces of a ResNet-20 step with SyncBatchNorm: 19 layers forward, 19 backward (then the loss). */
    private static final int SYNCBN_CALLS = 38;
    private static final long DRIVER_LIMIT_MS = TimeUnit.MINUTES.toMillis(6);
    private static final Pattern STEP = Pattern.compile("\"step\"\\s*:\\s*(\\d+)");
    private static final Pattern FROM_STEP = Pattern.compile("\\(stage \\d+\\), global batch \\d+, from step (\\d+)");

    private final Path work;
    private final PrintStream out;
    private Digests reference;
    /** Prepared shards of {@link ImageTree} and the uninterrupted run on them, made when a trial first needs them. */
    private Path shards;
    private Digests shardReference;

    ChaosRunner(final Path work, final PrintStream out)
    {
        this.work = work;
        this.out = out;
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 3)
        {
            System.err.println("usage: ChaosRunner WORK_DIR TRIALS SEED [FIRST_TRIAL] [FAULT,FAULT...]; faults: "
                + Arrays.toString(Fault.values()).toLowerCase(Locale.ROOT).replace('_', '-'));
            System.exit(2);
        }
        final Path work = Files.createDirectories(Path.of(args[0]).toAbsolutePath());
        final int trials = Integer.parseInt(args[1]);
        final long seed = Long.parseLong(args[2]);
        final int first = args.length > 3 && !args[3].contains(",") ? Integer.parseInt(args[3]) : 1;
        final List<Integer> numbers = args.length > 3 && args[3].contains(",")
            ? Stream.of(args[3].split(",")).map(s -> Integer.parseInt(s.strip())).toList()
            : java.util.stream.IntStream.range(first, first + trials).boxed().toList();
        final List<Fault> menu = args.length > 4 ? Stream.of(args[4].split(","))
            .map(f -> Fault.valueOf(f.strip().toUpperCase(Locale.ROOT).replace('-', '_'))).toList()
            : List.of(Fault.values());
        // Stopped early (timeout, ^C): no driver or executor of ours outlives the runner.
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly)));
        final ChaosRunner runner = new ChaosRunner(work, System.out);
        final List<TrialResult> results = runner.run(numbers, seed, menu);
        System.out.println();
        System.out.println(TrialResult.table(results));
        final long identical = results.stream().filter(TrialResult::identical).count();
        System.out.printf("%d of %d trials identical to the uninterrupted run (seed %d, trials %s)%n", identical,
            results.size(), seed, numbers);
        System.exit(identical == results.size() ? 0 : 1);
    }

    List<TrialResult> run(final List<Integer> numbers, final long seed, final List<Fault> menu)
        throws Exception
    {
        final long startNs = System.nanoTime();
        final Path referenceRun = work.resolve("reference");
        deleteTree(referenceRun);
        final Process driver = start(referenceRun, "", work.resolve("reference.log"), false);
        final boolean done = driver.waitFor(DRIVER_LIMIT_MS, TimeUnit.MILLISECONDS);
        if (!done || driver.exitValue() != 0)
        {
            destroyTree(driver);
            throw new IllegalStateException("the reference run failed; see " + work.resolve("reference.log"));
        }
        reference = Digests.of(referenceRun);
        out.printf("reference: %d steps in %.1f s, params %s, momentum %s%n", TOTAL_STEPS,
            (System.nanoTime() - startNs) / 1e9, reference.params(), reference.momentum());
        final List<TrialResult> results = new ArrayList<>();
        for (final int i : numbers)
        {
            final Random random = new Random(seed * 1_000_003L + i);
            final Fault fault = menu.get(random.nextInt(menu.size()));
            final Trial trial = new Trial(this, i, fault, random, work.resolve("trial-" + i));
            out.printf("trial %d: %s%n", i, fault.description);
            final long trialNs = System.nanoTime();
            final TrialResult result = trial.run();
            out.printf("trial %d: %s, %s, step %s: %s (%.0f s)%n", i, fault.description, result.phase(),
                result.step(), result.verdict(), (System.nanoTime() - trialNs) / 1e9);
            results.add(result);
            // The row as it is known, should the runner be stopped before the table.
            out.print("row: " + TrialResult.table(List.of(result)).lines().skip(2).findFirst().orElse("") + "\n");
            if (result.identical())
            {
                // The driver log stays (trial-N/driver.log); the run directory and markers go.
                deleteTree(trial.dir().resolve("run"));
                deleteTree(trial.dir().resolve("markers"));
            }
        }
        return results;
    }

    Digests reference()
    {
        return reference;
    }

    Path work()
    {
        return work;
    }

    /**
     * The prepared data set the shard trials copy ({@code baton prepare} of a generated {@link ImageTree}), made on
     * first use, with the digests of an uninterrupted run on it.
     */
    Path shards() throws Exception
    {
        if (shards == null)
        {
            final Path images = work.resolve("images");
            final Path prepared = work.resolve("shards");
            deleteTree(images);
            deleteTree(prepared);
            ImageTree.write(images, 23);
            final Path log = work.resolve("prepare.log");
            final Process prepare = LocalCluster.cli(work, "prepare", images.toString(), prepared.toString(),
                "--master", "local[1]").redirectOutput(log.toFile()).start();
            if (!prepare.waitFor(3, TimeUnit.MINUTES) || prepare.exitValue() != 0)
            {
                prepare.destroyForcibly();
                throw new IllegalStateException("baton prepare of the generated images failed; see " + log);
            }
            final Path referenceRun = work.resolve("reference-shards");
            deleteTree(referenceRun);
            final Process driver = start(referenceRun.toString(), null, "", work.resolve("reference-shards.log"),
                false, List.of("data.path=\"" + prepared + "\""));
            if (!driver.waitFor(DRIVER_LIMIT_MS, TimeUnit.MILLISECONDS) || driver.exitValue() != 0)
            {
                destroyTree(driver);
                throw new IllegalStateException("the reference run on shards failed; see "
                    + work.resolve("reference-shards.log"));
            }
            shardReference = Digests.of(referenceRun.resolve("checkpoints").toString());
            shards = prepared;
            out.printf("reference on prepared shards: params %s, momentum %s%n", shardReference.params(),
                shardReference.momentum());
        }
        return shards;
    }

    Digests shardReference()
    {
        return shardReference;
    }

    /** Starts {@code baton train} on the local-cluster with the given fault points. */
    Process start(final Path runDir, final String faultPoints, final Path log, final boolean append)
        throws IOException
    {
        return start(runDir.toString(), runDir.resolveSibling("markers"), faultPoints, log, append, List.of());
    }

    /**
     * Starts {@code baton train} with the run directory at {@code runDir} (a path or URI), markers of the fault
     * points in {@code markers}, and {@code extraKeys} after the runner's own.
     */
    Process start(final String runDir, final Path markers, final String faultPoints, final Path log,
        final boolean append, final List<String> extraKeys) throws IOException
    {
        final List<String> args = new ArrayList<>(List.of("train", "--master", LocalCluster.master(2, 1536),
            "--run-dir", runDir));
        final List<String> keys = new ArrayList<>(List.of(KEYS));
        keys.addAll(extraKeys);
        if (!faultPoints.isEmpty())
        {
            Files.createDirectories(markers);
            keys.add("debug.fault-points=\"" + faultPoints + "\"");
            keys.add("debug.fault-point-dir=\"" + markers + "\"");
        }
        for (final String key : keys)
        {
            args.add("--set");
            args.add(key);
        }
        final ProcessBuilder builder = LocalCluster.cli(work, args.toArray(new String[0]));
        builder.redirectOutput(append ? ProcessBuilder.Redirect.appendTo(log.toFile()) : ProcessBuilder.Redirect.to(
            log.toFile()));
        return builder.start();
    }

    /** The executor JVMs the driver's local-cluster workers started. */
    static List<ProcessHandle> executors(final Process driver)
    {
        return driver.descendants()
            .filter(p -> p.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend")).orElse(false))
            .toList();
    }

    /** Kills the driver and every process under it (the runner's own children only). */
    static void destroyTree(final Process driver)
    {
        driver.descendants().forEach(p ->
        {
            signal("CONT", p.pid());
            p.destroyForcibly();
        });
        driver.destroyForcibly();
    }

    static boolean signal(final String signal, final long pid)
    {
        try
        {
            return new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The complete lines of the run's metrics.jsonl (none when it cannot be read). */
    static List<String> metricsLines(final Path runDir)
    {
        final Path metrics = runDir.resolve("metrics.jsonl");
        try
        {
            return Files.exists(metrics) ? complete(Files.readString(metrics, StandardCharsets.UTF_8)) : List.of();
        }
        catch (final IOException | UncheckedIOException ex)
        {
            return List.of();
        }
    }

    /** The same for a run directory on any Hadoop file system (the NameNode restart's, on HDFS). */
    static List<String> metricsLines(final String runDir)
    {
        final org.apache.hadoop.fs.Path metrics = new org.apache.hadoop.fs.Path(runDir, "metrics.jsonl");
        try
        {
            final org.apache.hadoop.fs.FileSystem fs = metrics.getFileSystem(new Configuration());
            try (java.io.InputStream in = fs.open(metrics))
            {
                return complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            return List.of();
        }
    }

    private static List<String> complete(final String text)
    {
        return text.lines().filter(l -> STEP.matcher(l).find() && l.endsWith("}")).toList();
    }

    /** The start steps of the stages the driver log shows, in order. */
    static List<Long> stageStarts(final Path log)
    {
        final List<Long> starts = new ArrayList<>();
        final Matcher m = FROM_STEP.matcher(read(log));
        while (m.find())
        {
            starts.add(Long.parseLong(m.group(1)));
        }
        return starts;
    }

    static String read(final Path file)
    {
        try
        {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        }
        catch (final IOException ex)
        {
            return "";
        }
    }

    static void deleteTree(final Path dir) throws IOException
    {
        if (!Files.exists(dir))
        {
            return;
        }
        try (Stream<Path> all = Files.walk(dir))
        {
            all.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
        }
    }

    /** Flips one bit in the middle of the newest published checkpoint's parameters; returns what it changed. */
    static String corruptNewestCheckpoint(final Path runDir) throws IOException
    {
        final Path checkpoints = runDir.resolve("checkpoints");
        final Optional<Path> newest;
        try (Stream<Path> dirs = Files.list(checkpoints))
        {
            newest = dirs.filter(d -> d.getFileName().toString().startsWith("ckpt-")).max(Path::compareTo);
        }
        if (newest.isEmpty())
        {
            return "no published checkpoint to corrupt";
        }
        final Path part = newest.get().resolve("part-" + ReplicaState.PARAMS);
        try (RandomAccessFile file = new RandomAccessFile(part.toFile(), "rw"))
        {
            final long at = file.length() / 2;
            file.seek(at);
            final int b = file.read();
            file.seek(at);
            file.write(b ^ 0x10);
            return "flipped a bit of byte " + at + " of " + runDir.relativize(part);
        }
    }

    /** Fills the file system of {@code dir} until a write fails with no space left. */
    static long fill(final Path filler)
    {
        final byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) 1);
        long written = 0;
        try (OutputStream stream = Files.newOutputStream(filler))
        {
            while (true)
            {
                stream.write(chunk);
                written += chunk.length;
            }
        }
        catch (final IOException ex)
        {
            return written;
        }
    }

    static int syncbnCalls()
    {
        return SYNCBN_CALLS;
    }

    /** SHA-256 prefixes of the final checkpoint's parameters and momentum. */
    record Digests(String params, String momentum)
    {
        static Digests of(final Path runDir) throws IOException
        {
            return of(runDir.resolve("checkpoints").toString());
        }

        /** Of the checkpoints at {@code checkpoints}, a path or a URI of any Hadoop file system. */
        static Digests of(final String checkpoints) throws IOException
        {
            try (CheckpointStore store = CheckpointStore.openReadOnly(checkpoints, new Configuration()))
            {
                if (!store.list().contains((long) TOTAL_STEPS))
                {
                    throw new IOException("no checkpoint of step " + TOTAL_STEPS + " in " + checkpoints);
                }
                return new Digests(sha(store.open(TOTAL_STEPS).readPart(ReplicaState.PARAMS)),
                    sha(store.open(TOTAL_STEPS).readPart(ReplicaState.MOMENTUM)));
            }
        }

        private static String sha(final byte[] bytes)
        {
            try
            {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
            }
            catch (final NoSuchAlgorithmException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }

    /** The fault menu. */
    enum Fault
    {
        EXECUTOR_KILL("executor kill -9"),
        EXECUTOR_STOP("executor SIGSTOP (> collective.timeout)"),
        DRIVER_KILL("driver kill -9, rerun"),
        CORRUPT_CHECKPOINT("driver kill -9, newest checkpoint corrupted, rerun"),
        FULL_DISK("full disk (tmpfs) during a checkpoint"),
        TWO_FAULTS("two executor faults in one run"),
        DURING_RECOVERY("executor kill -9, then kill -9 during the recovery"),
        SHARD_BYTE_FLIP("flipped byte in a shard record"),
        NAMENODE_RESTART("HDFS NameNode restart");

        final String description;

        Fault(final String description)
        {
            this.description = description;
        }
    }

    /** One trial's row of the table. */
    record TrialResult(int trial, Fault fault, String phase, String step, String victim, String recoverSeconds,
        String verdict, boolean identical)
    {
        static String table(final List<TrialResult> results)
        {
            final StringBuilder text = new StringBuilder(
                "| trial | fault | phase (point) | step | fault landed on | recovered in | verdict |\n"
                    + "|---|---|---|---|---|---|---|\n");
            for (final TrialResult r : results)
            {
                text.append("| ").append(r.trial()).append(" | ").append(r.fault().description).append(" | ")
                    .append(r.phase()).append(" | ").append(r.step()).append(" | ").append(r.victim()).append(" | ")
                    .append(r.recoverSeconds()).append(" | ").append(r.verdict().replace("|", "\\|")).append(" |\n");
            }
            return text.toString();
        }
    }

    static Map<String, String> parseMarker(final String text)
    {
        final Map<String, String> fields = new LinkedHashMap<>();
        for (final String line : text.split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq > 0)
            {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return fields;
    }
}
