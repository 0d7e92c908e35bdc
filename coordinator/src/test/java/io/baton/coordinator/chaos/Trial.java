package io.baton.coordinator.chaos;

import io.baton.coordinator.chaos.ChaosRunner.Digests;
import io.baton.coordinator.chaos.ChaosRunner.Fault;
import io.baton.coordinator.chaos.ChaosRunner.TrialResult;
import io.baton.coordinator.train.FaultPointSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One trial of the {@link ChaosRunner}: plans its fault points from the trial's random generator, starts the run,
 * injects each fault when its point's marker appears, reruns the driver where the fault needs it, and gives the
 * verdict.
 */
final class Trial
{
    private static final long WAIT_LIMIT_MS = TimeUnit.MINUTES.toMillis(6);
    private static final long ORPHAN_WAIT_MS = 30_000;

    private final ChaosRunner runner;
    private final int index;
    private final Fault fault;
    private final java.util.Random random;
    private final Path dir;
    private final Path run;
    private final Path markers;
    private final Path log;
    /** The run directory as given to the driver: {@link #run}, or a URI on the NameNode trial's HDFS. */
    private String runUri;
    private List<String> extraKeys = List.of();
    private Digests expected;
    /** The NameNode trial's MiniDFSCluster JVM ({@link MiniHdfs}) and its output. */
    private Process hdfs;
    private Path hdfsLog;
    /** Set when the fault's expected failure did not look as it must (an error not naming its cause). */
    private boolean expectationMissed;
    private final List<Long> stopped = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final List<String> victims = new ArrayList<>();
    private Process driver;
    private long faultNs = -1;
    private long recoveredNs = -1;
    private int stagesAtFault;
    private java.util.Set<String> linesAtRelaunch;

    Trial(final ChaosRunner runner, final int index, final Fault fault, final java.util.Random random, final Path dir)
    {
        this.runner = runner;
        this.index = index;
        this.fault = fault;
        this.random = random;
        this.dir = dir;
        this.run = dir.resolve("run");
        this.markers = dir.resolve("markers");
        this.log = dir.resolve("driver.log");
        this.runUri = run.toString();
        this.expected = runner.reference();
    }

    Path dir()
    {
        return dir;
    }

    TrialResult run() throws Exception
    {
        ChaosRunner.deleteTree(dir);
        Files.createDirectories(run);
        if (fault == Fault.SHARD_BYTE_FLIP)
        {
            // A copy per trial: the damage stays in this trial even if the runner is stopped before the restore.
            final Path data = dir.resolve("data");
            copyTree(runner.shards(), data);
            extraKeys = List.of("data.path=\"" + data + "\"");
            expected = runner.shardReference();
        }
        boolean mounted = false;
        final List<FaultPointSpec> points = plan();
        final String phase = points.stream().map(FaultPointSpec::toString).collect(Collectors.joining(" + "));
        final String step = points.stream().map(p -> Long.toString(p.step())).collect(Collectors.joining(", "));
        try
        {
            if (fault == Fault.FULL_DISK)
            {
                final Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs",
                    run.toString()).redirectErrorStream(true).start();
                final String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (mount.waitFor() != 0)
                {
                    return notInjected("cannot mount a tmpfs for the run directory: " + output.strip());
                }
                mounted = true;
            }
            if (fault == Fault.NAMENODE_RESTART)
            {
                final String uri = startHdfs();
                if (uri == null)
                {
                    return notInjected("the MiniDFSCluster did not start: " + lastLine(hdfsLog));
                }
                runUri = uri + "/chaos/trial-" + index + "/run";
            }
            driver = runner.start(runUri, markers, points.stream().map(FaultPointSpec::toString)
                .collect(Collectors.joining(",")), log, false, extraKeys);
            final String problem = inject(points);
            if (problem != null)
            {
                return result(phase, step, problem, false);
            }
            int exit = waitForDriver();
            if (exit != 0 && fault == Fault.NAMENODE_RESTART)
            {
                // Not riding through the restart is allowed if the failure says why and the run resumes.
                notes.add("the run failed: " + (exit < 0 ? "driver hung" : "exit " + exit) + ", \"" + lastError()
                    + "\"; rerun");
                if (exit < 0)
                {
                    ChaosRunner.destroyTree(driver);
                    driver.waitFor(30, TimeUnit.SECONDS);
                }
                rerun();
                exit = waitForDriver();
            }
            if (exit != 0)
            {
                return result(phase, step, "FAILED: " + (exit < 0 ? "the driver did not finish within "
                    + TimeUnit.MILLISECONDS.toMinutes(WAIT_LIMIT_MS) + " min" : "exit " + exit + ", "
                    + lastError()), false);
            }
            return verdict(phase, step);
        }
        finally
        {
            if (driver != null)
            {
                for (final long pid : stopped)
                {
                    ChaosRunner.signal("CONT", pid);
                }
                ChaosRunner.destroyTree(driver);
                driver.waitFor(30, TimeUnit.SECONDS);
            }
            if (mounted)
            {
                new ProcessBuilder("umount", "-l", run.toString()).inheritIO().start().waitFor();
            }
            stopHdfs();
        }
    }

    /** Starts {@link MiniHdfs} in its own JVM; its URI, or null when it did not come up within 2 minutes. */
    private String startHdfs() throws Exception
    {
        hdfsLog = dir.resolve("hdfs.log");
        hdfs = io.baton.coordinator.spark.LocalCluster.java(runner.work(), MiniHdfs.class.getName(),
            dir.resolve("hdfs").toString()).redirectOutput(hdfsLog.toFile()).start();
        final String ready = awaitLine(hdfsLog, "ready ", 0);
        return ready == null ? null : ready.substring("ready ".length()).strip();
    }

    private void stopHdfs() throws Exception
    {
        if (hdfs != null)
        {
            try (java.io.OutputStream in = hdfs.getOutputStream())
            {
                in.write("stop\n".getBytes(StandardCharsets.UTF_8));
            }
            catch (final IOException ex)
            {
                // Already gone.
            }
            if (!hdfs.waitFor(30, TimeUnit.SECONDS))
            {
                hdfs.descendants().forEach(ProcessHandle::destroyForcibly);
                hdfs.destroyForcibly();
                hdfs.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** The {@code nth} (from 0) line of {@code file} starting with {@code prefix}, waited for up to 2 minutes. */
    private String awaitLine(final Path file, final String prefix, final int nth) throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && hdfs.isAlive())
        {
            final List<String> lines = ChaosRunner.read(file).lines().filter(l -> l.startsWith(prefix)).toList();
            if (lines.size() > nth)
            {
                return lines.get(nth);
            }
            Thread.sleep(50);
        }
        return null;
    }

    private static String lastLine(final Path file)
    {
        final List<String> lines = ChaosRunner.read(file).lines().toList();
        return lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
    }

    private static void copyTree(final Path from, final Path to) throws IOException
    {
        try (java.util.stream.Stream<Path> all = Files.walk(from))
        {
            for (final Path p : (Iterable<Path>) all::iterator)
            {
                final Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p))
                {
                    Files.createDirectories(target);
                }
                else
                {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** The fault points of this trial's fault. */
    private List<FaultPointSpec> plan()
    {
        final int last = ChaosRunner.TOTAL_STEPS - 3;
        switch (fault)
        {
            case FULL_DISK:
                return List.of(point("checkpoint", 1, last));
            case SHARD_BYTE_FLIP:
                // Early enough that a whole epoch (4 steps, every sample) comes after the flip and the prefetch.
                return List.of(point(null, 1, 16));
            case TWO_FAULTS:
            {
                final FaultPointSpec first = point(null, 1, last - 6);
                return List.of(first, point(null, first.step() + 4, last));
            }
            default:
                return List.of(point(null, 1, last));
        }
    }

    /** A random point of {@code phase} (null: any) at a step in [min, max]. */
    private FaultPointSpec point(final String phase, final long min, final long max)
    {
        final String chosen = phase != null ? phase
            : FaultPointSpec.PHASES.get(random.nextInt(FaultPointSpec.PHASES.size()));
        switch (chosen)
        {
            case "checkpoint":
            {
                // Checkpoints are taken after every 3rd step and at epoch ends (4 steps an epoch).
                final List<Long> steps = new ArrayList<>();
                for (long s = Math.max(3, min); s <= max; s++)
                {
                    if (s % 3 == 0 || s % 4 == 0)
                    {
                        steps.add(s);
                    }
                }
                return new FaultPointSpec(chosen, 1, steps.get(random.nextInt(steps.size())), 0);
            }
            case "metrics":
                return new FaultPointSpec(chosen, 1, min + random.nextInt((int) (max - min + 1)), 0);
            case "syncbn":
                return new FaultPointSpec(chosen, 1 + random.nextInt(ChaosRunner.syncbnCalls()),
                    min + random.nextInt((int) (max - min + 1)), random.nextInt(2));
            default:
                return new FaultPointSpec(chosen, 1, min + random.nextInt((int) (max - min + 1)), random.nextInt(2));
        }
    }

    /** Injects the trial's faults; returns a verdict when one could not be injected, else null. */
    private String inject(final List<FaultPointSpec> points) throws Exception
    {
        for (int i = 0; i < points.size(); i++)
        {
            final FaultPointSpec point = points.get(i);
            final Map<String, String> marker = awaitMarker(point);
            if (marker == null)
            {
                return "not injected: fault point " + point + " was never reached (" + (driver.isAlive()
                    ? "no marker within " + TimeUnit.MILLISECONDS.toMinutes(WAIT_LIMIT_MS) + " min"
                    : "driver exited " + driver.exitValue() + ": " + lastError()) + ")";
            }
            final long paused = Long.parseLong(marker.get("pid"));
            switch (fault)
            {
                case EXECUTOR_KILL:
                    kill(victim(paused));
                    break;
                case EXECUTOR_STOP:
                    stop(victim(paused));
                    break;
                case TWO_FAULTS:
                    if (random.nextBoolean())
                    {
                        kill(victim(paused));
                    }
                    else
                    {
                        stop(victim(paused));
                    }
                    break;
                case DURING_RECOVERY:
                    kill(victim(paused));
                    killDuringRecovery();
                    break;
                case DRIVER_KILL:
                    killDriver();
                    rerun();
                    break;
                case CORRUPT_CHECKPOINT:
                    killDriver();
                    notes.add(ChaosRunner.corruptNewestCheckpoint(run));
                    rerun();
                    break;
                case FULL_DISK:
                    fillDisk();
                    break;
                case SHARD_BYTE_FLIP:
                    flipShardByte();
                    break;
                case NAMENODE_RESTART:
                    restartNameNode();
                    break;
                default:
                    throw new IllegalStateException("no injection for " + fault);
            }
        }
        return null;
    }

    /** The paused executor or, at random, its peer (blocked in the same collective or the next one). */
    private long victim(final long paused)
    {
        final List<Long> others = ChaosRunner.executors(driver).stream().map(ProcessHandle::pid)
            .filter(pid -> pid != paused).toList();
        final boolean peer = random.nextBoolean() && !others.isEmpty();
        victims.add(peer ? "peer of the paused replica" : "paused replica");
        return peer ? others.get(0) : paused;
    }

    private void markFault()
    {
        if (faultNs < 0)
        {
            faultNs = System.nanoTime();
            stagesAtFault = ChaosRunner.stageStarts(log).size();
        }
    }

    private void kill(final long pid)
    {
        markFault();
        ChaosRunner.signal("KILL", pid);
    }

    private void stop(final long pid)
    {
        markFault();
        ChaosRunner.signal("STOP", pid);
        stopped.add(pid);
    }

    /** After the first kill: kills an executor as soon as the driver reports the stage failure, before relaunch. */
    private void killDuringRecovery() throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + WAIT_LIMIT_MS;
        while (!ChaosRunner.read(log).contains("stage failed (") && driver.isAlive()
            && System.currentTimeMillis() < deadline)
        {
            Thread.sleep(20);
        }
        List<ProcessHandle> live = ChaosRunner.executors(driver);
        final long waitUntil = System.currentTimeMillis() + 30_000;
        while (live.isEmpty() && driver.isAlive() && System.currentTimeMillis() < waitUntil)
        {
            Thread.sleep(20);
            live = ChaosRunner.executors(driver);
        }
        if (live.isEmpty())
        {
            notes.add("no executor alive to kill during the recovery");
            return;
        }
        final ProcessHandle second = live.get(random.nextInt(live.size()));
        ChaosRunner.signal("KILL", second.pid());
        victims.add("an executor during the recovery (" + live.size() + " alive)");
    }

    private void killDriver() throws Exception
    {
        markFault();
        final List<ProcessHandle> executors = ChaosRunner.executors(driver);
        ChaosRunner.signal("KILL", driver.pid());
        driver.waitFor(30, TimeUnit.SECONDS);
        victims.add("driver");
        // The master and workers of local-cluster lived in the driver; its executors exit when they lose it.
        final long deadline = System.currentTimeMillis() + ORPHAN_WAIT_MS;
        while (executors.stream().anyMatch(ProcessHandle::isAlive) && System.currentTimeMillis() < deadline)
        {
            Thread.sleep(100);
        }
        final long orphans = executors.stream().filter(ProcessHandle::isAlive).count();
        if (orphans > 0)
        {
            executors.forEach(ProcessHandle::destroyForcibly);
            notes.add(orphans + " orphaned executor(s) still alive " + ORPHAN_WAIT_MS / 1000 + " s after the driver "
                + "died: killed by the runner");
        }
    }

    private void rerun() throws IOException
    {
        Files.writeString(log, "\n==== chaos runner: driver rerun ====\n", StandardCharsets.UTF_8,
            java.nio.file.StandardOpenOption.APPEND);
        driver = runner.start(runUri, markers, "", log, true, extraKeys);
    }

    /**
     * Flips a byte of a train record (every epoch reads every sample, so the run reads it again); the run must fail
     * with an error naming the record, and after the byte is put back the same command must finish identical.
     */
    private void flipShardByte() throws Exception
    {
        markFault();
        final ShardDamage damage = ShardDamage.flip(dir.resolve("data"), random);
        victims.add("a train record");
        notes.add(damage.toString());
        final int exit = waitForDriver();
        if (exit == 0)
        {
            notes.add("the run finished without reading the damaged record again");
            expectationMissed = true;
            damage.restore();
            return;
        }
        final String error = lastError();
        final boolean named = error.contains(damage.expectedError());
        expectationMissed |= !named;
        notes.add((exit < 0 ? "driver hung" : "exit " + exit) + (named ? "" : " (the error does not name the "
            + "damaged record)") + ", \"" + error + "\"");
        damage.restore();
        if (exit < 0)
        {
            ChaosRunner.destroyTree(driver);
            driver.waitFor(30, TimeUnit.SECONDS);
        }
        notes.add("byte restored, rerun");
        rerun();
    }

    /** Restarts the NameNode of the run directory's HDFS while the replica is paused at the point. */
    private void restartNameNode() throws Exception
    {
        markFault();
        hdfs.getOutputStream().write("restart-namenode\n".getBytes(StandardCharsets.UTF_8));
        hdfs.getOutputStream().flush();
        final String restarted = awaitLine(hdfsLog, "restarted ", 0);
        victims.add(restarted == null ? "NameNode (restart did not finish in 2 min)"
            : "NameNode (down and back in " + restarted.substring("restarted ".length()).strip() + " ms)");
        expectationMissed |= restarted == null;
    }

    private void fillDisk() throws Exception
    {
        markFault();
        final Path filler = run.resolve("chaos-filler");
        final long bytes = ChaosRunner.fill(filler);
        victims.add("run directory's file system");
        final int exit = waitForDriver();
        if (exit == 0)
        {
            notes.add("the run completed on the full disk");
            Files.deleteIfExists(filler);
            return;
        }
        final String error = lastError();
        notes.add("full disk (" + (bytes >> 20) + " MB filler): " + (exit < 0 ? "driver hung" : "exit " + exit
            + (error.contains("No space left on device") ? "" : " (the error does not name the full disk)") + ", \""
            + error + "\""));
        Files.deleteIfExists(filler);
        if (exit < 0)
        {
            ChaosRunner.destroyTree(driver);
            driver.waitFor(30, TimeUnit.SECONDS);
        }
        rerun();
    }

    private Map<String, String> awaitMarker(final FaultPointSpec point) throws Exception
    {
        final Path marker = run.resolveSibling("markers").resolve(point.markerName());
        final long deadline = System.currentTimeMillis() + WAIT_LIMIT_MS;
        long nextPoll = 0;
        while (System.currentTimeMillis() < deadline)
        {
            if (Files.exists(marker))
            {
                return ChaosRunner.parseMarker(Files.readString(marker, StandardCharsets.UTF_8));
            }
            if (!driver.isAlive())
            {
                return null;
            }
            if (System.currentTimeMillis() >= nextPoll)
            {
                pollRecovery();
                nextPoll = System.currentTimeMillis() + 200;
            }
            Thread.sleep(10);
        }
        return null;
    }

    /** Waits for the driver to exit, watching for the recovery; its exit code, -1 when it did not finish in time. */
    private int waitForDriver() throws InterruptedException
    {
        final long deadline = System.currentTimeMillis() + WAIT_LIMIT_MS;
        while (System.currentTimeMillis() < deadline)
        {
            pollRecovery();
            if (driver.waitFor(200, TimeUnit.MILLISECONDS))
            {
                pollRecovery();
                return driver.exitValue();
            }
        }
        return -1;
    }

    /**
     * Recovered: a stage launched after the fault (a relaunch, or the rerun driver's) completed a step, i.e. a metrics
     * line appeared that was not in the file when that launch was seen (a redone step's line differs in its timings).
     */
    private void pollRecovery()
    {
        if (faultNs < 0 || recoveredNs >= 0)
        {
            return;
        }
        if (linesAtRelaunch == null)
        {
            if (ChaosRunner.stageStarts(log).size() > stagesAtFault)
            {
                linesAtRelaunch = new java.util.HashSet<>(metricsLines());
            }
            return;
        }
        if (!linesAtRelaunch.containsAll(metricsLines()))
        {
            recoveredNs = System.nanoTime();
        }
    }

    private List<String> metricsLines()
    {
        return runUri.equals(run.toString()) ? ChaosRunner.metricsLines(run) : ChaosRunner.metricsLines(runUri);
    }

    /** The driver's failure line ("baton train failed: ..."), else the log's last line. */
    private String lastError()
    {
        final String[] lines = ChaosRunner.read(log).split("\n");
        String last = "";
        for (final String line : lines)
        {
            if (line.startsWith("baton ") && line.contains("failed: "))
            {
                last = line.strip();
            }
        }
        for (int i = lines.length - 1; i >= 0 && last.isEmpty(); i--)
        {
            last = lines[i].strip();
        }
        return last.length() > 400 ? last.substring(0, 400) + "..." : last;
    }

    private TrialResult verdict(final String phase, final String step)
    {
        final Digests digests;
        try
        {
            digests = Digests.of(runUri + "/checkpoints");
        }
        catch (final IOException ex)
        {
            return result(phase, step, "FAILED: " + ex.getMessage(), false);
        }
        final List<Long> stages = ChaosRunner.stageStarts(log);
        final String stageText = "stages from step " + stages.stream().map(String::valueOf)
            .collect(Collectors.joining(", "));
        if (fault == Fault.CORRUPT_CHECKPOINT)
        {
            notes.add(ChaosRunner.read(log).contains("is corrupt and is skipped")
                ? "the rerun reported the corrupt checkpoint and skipped it"
                : "the rerun did not report a corrupt checkpoint");
        }
        final String extra = notes.isEmpty() ? "" : "; " + String.join("; ", notes);
        if (digests.equals(expected))
        {
            // Riding through a NameNode restart without a relaunch is the best outcome, not a fault that missed.
            final boolean rodeThrough = fault == Fault.NAMENODE_RESTART && stages.size() < 2;
            final String recovery = rodeThrough ? " (no relaunch: the run rode through the restart)"
                : stages.size() < 2 ? " (no relaunch or rerun: the fault did not interrupt the run)" : "";
            return result(phase, step, (expectationMissed ? "FAILED (the fault did not fail as it must), digests "
                + "identical (" : "identical (") + stageText + ")" + recovery + extra,
                (stages.size() >= 2 || rodeThrough) && !expectationMissed);
        }
        return result(phase, step, String.format(Locale.ROOT, "DIFFERENT: params %s vs %s, momentum %s vs %s (%s)%s",
            digests.params(), expected.params(), digests.momentum(), expected.momentum(), stageText, extra), false);
    }

    private TrialResult result(final String phase, final String step, final String verdict, final boolean identical)
    {
        final String recovered = recoveredNs < 0 ? "-" : String.format(Locale.ROOT, "%.1f s",
            (recoveredNs - faultNs) / 1e9);
        return new TrialResult(index, fault, phase, step, victims.isEmpty() ? "-" : String.join(", ", victims),
            recovered, verdict, identical);
    }

    private TrialResult notInjected(final String reason)
    {
        return new TrialResult(index, fault, "-", "-", "-", "-", "not injected: " + reason, false);
    }
}
