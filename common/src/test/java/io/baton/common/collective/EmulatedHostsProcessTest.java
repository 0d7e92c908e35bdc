package io.baton.common.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Ranks on emulated hosts (issue 24): each rank a JVM in its own network namespace, UDP between namespaces over veth
 * pairs and a bridge (link MTU 1500, so Baton's 64 KB datagrams are IP-fragmented as on a plain Ethernet link).
 * Skipped, saying why, where namespaces cannot be made (not root, no iproute2); CI runs as root.
 */
class EmulatedHostsProcessTest
{
    private static final long SEED = 24;
    private static final int WORLD_SIZE = 2;
    private static final int LINK_MTU_BYTES = 1500;
    /** 0..1,000,000 floats: the largest is 4 MB, ~60 datagrams of 64 KB each way, ~2,800 Ethernet frames. */
    private static final String SIZES = "1,8191,1000000";
    /** A survivor must fail within the operation deadline plus this (JVM and scheduling slack on a loaded host). */
    private static final long FAILURE_SLACK_MS = 1000;

    private EmulatedHosts hosts;
    private final List<ChildProcess> workers = new ArrayList<>();

    @BeforeAll
    static void requireNamespaces()
    {
        final String reason = EmulatedHosts.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "skipped: " + reason);
        EmulatedHosts.sweepStale();
    }

    @BeforeEach
    void createHosts() throws IOException
    {
        hosts = EmulatedHosts.create(WORLD_SIZE, LINK_MTU_BYTES);
    }

    @AfterEach
    void removeHosts() throws InterruptedException
    {
        try
        {
            for (final ChildProcess worker : workers)
            {
                worker.process().destroyForcibly();
                worker.process().waitFor(10, TimeUnit.SECONDS);
            }
        }
        finally
        {
            hosts.close();
        }
    }

    @AfterAll
    static void sweep()
    {
        EmulatedHosts.sweepStale();
    }

    /** Rank {@code rank} as a {@link CollectiveWorker} JVM in its host's namespace; ports may repeat across hosts. */
    private ChildProcess start(final String mode, final int rank, final int[] ports) throws IOException
    {
        return start(mode, rank, ports, SIZES);
    }

    private ChildProcess start(final String mode, final int rank, final int[] ports, final String sizes) throws IOException
    {
        final List<String> command = new ArrayList<>(hosts.exec(rank));
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(CollectiveTestSupport.jvmFlags());
        command.addAll(List.of("-Dworker.hosts=" + hosts.addresses(), "-Xmx512m", "-XX:+UseSerialGC", "-cp",
            System.getProperty("java.class.path"), CollectiveWorker.class.getName(), mode, String.valueOf(rank),
            ports[0] + "," + ports[1], "job-netns", "1", String.valueOf(SEED), sizes));
        final ChildProcess worker = new ChildProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
        workers.add(worker);
        return worker;
    }

    @Test
    void ranksInTwoNamespacesAllReduceOverTheVethLinkToTheSum() throws Exception
    {
        // The same port on both hosts: each namespace has its own port space, as separate machines do.
        final int[] ports = {40_124, 40_124};
        final ChildProcess rank0 = start("reduce", 0, ports);
        final ChildProcess rank1 = start("reduce", 1, ports);
        for (final ChildProcess worker : List.of(rank0, rank1))
        {
            final List<String> out = worker.finish(120_000);
            assertEquals("CONNECTED UDP", out.get(0), out.toString());
            final List<String> results = out.stream().filter((l) -> l.startsWith("RESULT"))
                .collect(Collectors.toList());
            assertEquals(SIZES.split(",").length, results.size(), out.toString());
            // compareToDoubleSum in the worker: every element within float rounding of the double sum of both inputs.
            results.forEach((l) -> assertTrue(l.endsWith(" ok"), l));
            assertTrue(out.contains("CLEAN"), "worker left threads or its driver directory: " + out);
        }
        assertEquals(rank0.finish(0).stream().filter((l) -> l.startsWith("RESULT")).collect(Collectors.toList()),
            rank1.finish(0).stream().filter((l) -> l.startsWith("RESULT")).collect(Collectors.toList()),
            "both ranks must end with the same bits");
        for (int r = 0; r < WORLD_SIZE; r++)
        {
            // Each rank sends about half of the 4 MB twice (reduce-scatter, all-gather): it crossed the veth.
            assertTrue(hosts.sentBytes(r) > 3_000_000, "rank " + r + " sent only " + hosts.sentBytes(r) +
                " bytes over its link");
        }
    }

    @Test
    void aHostWhoseLinkGoesDownMakesTheOtherFailWithinTheDeadlineNamingIt() throws Exception
    {
        final int[] ports = {40_125, 40_125};
        final ChildProcess rank0 = start("await-go", 0, ports);
        final ChildProcess rank1 = start("await-go", 1, ports);
        rank0.awaitLine("CONNECTED", 60_000);
        rank1.awaitLine("CONNECTED", 60_000);
        // Rank 1 keeps running, but its address no longer answers; then both attempt the all-reduce.
        hosts.linkDown(1);
        rank0.send("go");
        rank1.send("go");
        assertFailsInTime(rank0.finish(60_000), 1);
        assertFailsInTime(rank1.finish(60_000), 0);
    }

    @Test
    void aRankKilledOnItsHostMakesTheOtherFailWithinTheDeadlineNamingIt() throws Exception
    {
        final int[] ports = {40_127, 40_127};
        final ChildProcess rank0 = start("await-go", 0, ports);
        final ChildProcess rank1 = start("idle", 1, ports);
        rank0.awaitLine("CONNECTED", 60_000);
        rank1.awaitLine("CONNECTED", 60_000);
        // `ip netns exec` execs the JVM, so this is the rank itself, killed without a goodbye.
        rank1.process().destroyForcibly();
        assertTrue(rank1.process().waitFor(10, TimeUnit.SECONDS));
        rank0.send("go");
        assertFailsInTime(rank0.finish(60_000), 1);
    }

    @Test
    void aRateLimitSoLowThatTheDeadlinePassesFailsBothNamingTheOperation() throws Exception
    {
        final int[] ports = {40_126, 40_126};
        // await-go all-reduces the first size: 1 MB, which at 1 Mbit/s needs ~8 s each way, 4x the 2 s deadline.
        final String oneMegabyte = "262144";
        final ChildProcess rank0 = start("await-go", 0, ports, oneMegabyte);
        final ChildProcess rank1 = start("await-go", 1, ports, oneMegabyte);
        rank0.awaitLine("CONNECTED", 60_000);
        rank1.awaitLine("CONNECTED", 60_000);
        hosts.limitEgress(0, "1mbit");
        hosts.limitEgress(1, "1mbit");
        rank0.send("go");
        rank1.send("go");
        assertFailsInTime(rank0.finish(60_000), 1);
        assertFailsInTime(rank1.finish(60_000), 0);
    }

    private static void assertFailsInTime(final List<String> out, final int missingRank)
    {
        final String failed = out.stream().filter((l) -> l.startsWith("FAILED")).findFirst()
            .orElseThrow(() -> new AssertionError("no FAILED line: " + out));
        final long elapsedMs = Long.parseLong(failed.split(" ")[1]);
        assertTrue(elapsedMs < TimeUnit.NANOSECONDS.toMillis(CollectiveTestSupport.TEST_DEADLINE_NS) +
            FAILURE_SLACK_MS, "took " + elapsedMs + " ms: " + failed);
        assertTrue(failed.contains("missing=[" + missingRank + "]"), failed);
        assertTrue(failed.contains("allReduce seq=0 worldSize=2"), failed);
        assertTrue(failed.contains("waiting for ranks [" + missingRank + "]"), failed);
        assertTrue(out.contains("CLEAN"), "survivor left threads or its driver directory: " + out);
    }
}
