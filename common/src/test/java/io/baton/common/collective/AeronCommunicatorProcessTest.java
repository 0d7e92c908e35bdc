package io.baton.common.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ranks as separate JVMs: each with its own embedded driver, talking UDP on 127.0.0.1, or sharing a host driver. */
class AeronCommunicatorProcessTest
{
    private static final long SEED = 11;
    private static final String SIZES = "0,1,2,4,8191,104729,1000000";
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killWorkers() throws InterruptedException
    {
        for (final Process p : processes)
        {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private ChildProcess start(final String mode, final int rank, final int[] ports, final long generation,
        final String... systemProperties) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(CollectiveTestSupport.jvmFlags());
        command.addAll(List.of(systemProperties));
        command.addAll(List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=4", "-cp",
            System.getProperty("java.class.path"), CollectiveWorker.class.getName(), mode, String.valueOf(rank),
            Arrays.stream(ports).mapToObj(String::valueOf).collect(Collectors.joining(",")), "job-p",
            String.valueOf(generation), String.valueOf(SEED), SIZES));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        return new ChildProcess(process);
    }

    /**
     * Runs a {@code reduce} worker per rank (with the given system properties) and waits for them all. Checks that each
     * connected over {@code transport}, left nothing behind and got every size right; returns each rank's RESULT lines.
     */
    private List<List<String>> reduceInWorkers(final int worldSize, final String transport,
        final String... systemProperties) throws Exception
    {
        final int[] ports = CollectiveTestSupport.freeUdpPorts(worldSize);
        final List<ChildProcess> workers = new ArrayList<>();
        for (int r = 0; r < worldSize; r++)
        {
            workers.add(start("reduce", r, ports, 1, systemProperties));
        }
        final List<List<String>> results = new ArrayList<>();
        for (final ChildProcess worker : workers)
        {
            final List<String> out = worker.finish(120_000);
            assertTrue(out.contains("CLEAN"), "worker left threads or its driver directory: " + out);
            assertEquals("CONNECTED " + transport, out.get(0), out.toString());
            final List<String> lines = out.stream().filter((l) -> l.startsWith("RESULT")).collect(Collectors.toList());
            assertEquals(SIZES.split(",").length, lines.size(), out.toString());
            lines.forEach((l) -> assertTrue(l.endsWith(" ok"), l));
            results.add(lines);
        }
        return results;
    }

    @Test
    void threeProcessesOverUdpMatchDoubleSumBitIdenticallyAndEqualInJvmResults() throws Exception
    {
        final int worldSize = 3;
        final List<List<String>> results = reduceInWorkers(worldSize, "UDP");
        assertEquals(results.get(0), results.get(1));
        assertEquals(results.get(0), results.get(2));

        final List<String> inJvm = CollectiveTestSupport.runRanks(CollectiveTestSupport.testSettings().build(),
            worldSize, "job-p", 1, (comm) ->
            {
                final StringBuilder sb = new StringBuilder();
                for (final String s : SIZES.split(","))
                {
                    final float[] data = CollectiveTestSupport.input(SEED, comm.rank(), Integer.parseInt(s));
                    comm.allReduce(data, ReduceOp.SUM);
                    sb.append("RESULT ").append(s).append(' ').append(CollectiveTestSupport.digest(data))
                        .append(" ok\n");
                }
                return sb.toString();
            }).get(0).lines().collect(Collectors.toList());
        assertEquals(results.get(0), inJvm, "separate JVMs over UDP and threads over IPC must give the same bits");
    }

    @Test
    void rankProcessesOnOneHostShareOneStartedDriverTalkOverIpcAndGetTheUdpBits(@TempDir final Path temp)
        throws Exception
    {
        final int worldSize = 2;
        final File dir = temp.resolve("driver").toFile();
        final List<List<String>> results = reduceInWorkers(worldSize, "IPC", "-Dworker.sharedDriverDir=" + dir,
            "-Dworker.sharedIdleExitMs=1000");
        assertEquals(results.get(0), results.get(1));

        // Both JVMs raced to start the driver: one did, under the lock; the other used it. It exits once idle.
        final Path log = temp.resolve("driver.log");
        final long end = System.currentTimeMillis() + 20_000;
        while (!(Files.exists(log) && Files.readString(log).contains("closed")))
        {
            assertTrue(System.currentTimeMillis() < end, "shared driver did not exit when idle: "
                + (Files.exists(log) ? Files.readString(log) : "no log"));
            Thread.sleep(50);
        }
        final String text = Files.readString(log);
        assertEquals(1, text.split("started in ", -1).length - 1, text);
        assertFalse(dir.exists(), "the driver's directory outlived it");

        // The same bits as ranks over UDP with embedded drivers (reduction order is fixed by rank, not transport).
        assertEquals(reduceInWorkers(worldSize, "UDP").get(0), results.get(0));
    }

    @Test
    void killingOneRankProcessMakesEveryOtherRankFailWithinDeadlineNamingIt() throws Exception
    {
        final int worldSize = 3;
        final int[] ports = CollectiveTestSupport.freeUdpPorts(worldSize);
        final ChildProcess survivor0 = start("survive", 0, ports, 3);
        final ChildProcess survivor1 = start("survive", 1, ports, 3);
        final ChildProcess victim = start("idle", 2, ports, 3);
        victim.awaitLine("CONNECTED", 60_000);
        victim.process().destroyForcibly();
        assertTrue(victim.process().waitFor(10, TimeUnit.SECONDS));
        final String victimPrefix = "baton-aeron-" + victim.process().pid() + "-";
        for (final ChildProcess survivor : List.of(survivor0, survivor1))
        {
            final List<String> out = survivor.finish(60_000);
            final String failed = out.stream().filter((l) -> l.startsWith("FAILED")).findFirst()
                .orElseThrow(() -> new AssertionError("no FAILED line: " + out));
            final long elapsedMs = Long.parseLong(failed.split(" ")[1]);
            assertTrue(elapsedMs < CollectiveTestSupport.TEST_DEADLINE_NS / 1_000_000 + 1000,
                "took " + elapsedMs + " ms: " + failed);
            assertTrue(failed.contains("missing=[2]"), failed);
            assertTrue(failed.contains("allReduce seq=0 worldSize=3"), failed);
            assertTrue(failed.contains("waiting for ranks [2]"), failed);
            assertTrue(out.contains("CLEAN"), "survivor left threads or its driver directory: " + out);
        }
        EmbeddedDriver.acquire(CollectiveTestSupport.testSettings().build());
        EmbeddedDriver.release();
        final String[] left = new File(CollectiveSettings.builder().build().embeddedDriverParentDirectory())
            .list((d, name) -> name.startsWith(victimPrefix));
        assertEquals(0, left == null ? 0 : left.length, "the killed rank's driver directory was not swept");
    }
}
