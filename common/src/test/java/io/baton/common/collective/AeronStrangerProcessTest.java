package io.baton.common.collective;

import static io.baton.common.collective.CollectiveTestSupport.TEST_KEY;
import static io.baton.common.collective.CollectiveTestSupport.digest;
import static io.baton.common.collective.CollectiveTestSupport.freeUdpPorts;
import static io.baton.common.collective.CollectiveTestSupport.input;
import static io.baton.common.collective.CollectiveTestSupport.localEndpoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stranger in a JVM of its own ({@link Stranger#main}) that knows the job name, generation, the ranks' UDP ports and
 * IPC streams, but not the stage key, sends wrongly keyed handshakes and forged heartbeats and data fragments to both
 * ranks while they connect and all-reduce: over UDP on 127.0.0.1 from its own embedded driver, and over IPC through
 * the host-shared driver the ranks use (its directory known to it). The ranks (threads of this JVM) get the bits of a
 * run without the stranger, count it, and never fail or stall: every operation has the tests' 2 s deadline.
 */
class AeronStrangerProcessTest
{
    private static final String JOB = "job-stranger";
    private static final long GENERATION = 5;
    private static final int CHUNK_BYTES = 16 * 1024;
    private static final int[] SIZES = {1_000_003, 256, 20_000};
    private static final Pattern STARTED = Pattern.compile("\\(pid (\\d+)\\): started in ");

    @TempDir
    Path temp;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopProcesses() throws Exception
    {
        for (final Process process : processes)
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        // shared drivers the ranks started exit 1 s after their last client; do not leave one behind if it did not
        final Path log = temp.resolve("driver.log");
        if (Files.exists(log))
        {
            final Matcher m = STARTED.matcher(Files.readString(log, StandardCharsets.UTF_8));
            while (m.find())
            {
                ProcessHandle.of(Long.parseLong(m.group(1))).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = CollectiveSettings.Transport.class, names = {"UDP", "IPC"})
    void aStrangerProcessWithoutTheKeyIsRefusedCountedAndChangesNoBit(final CollectiveSettings.Transport transport)
        throws Exception
    {
        final CollectiveSettings.Builder builder = CollectiveTestSupport.testSettings().transport(transport)
            .chunkBytes(CHUNK_BYTES);
        final File driverDir = temp.resolve("driver").toFile();
        final CollectiveSettings settings = transport == CollectiveSettings.Transport.IPC
            ? builder.driverMode(CollectiveSettings.DriverMode.SHARED).externalDriverDirectory(driverDir.getPath())
                .sharedDriverIdleExitNs(TimeUnit.SECONDS.toNanos(1)).build()
            : builder.build();

        final List<Outcome> alone = reduce(settings, freeUdpPorts(2), false);

        final int[] ports = freeUdpPorts(2);
        final ChildProcess stranger = startStranger(transport, ports, driverDir);
        stranger.awaitLine("READY", 60_000);
        final List<Outcome> withStranger = reduce(settings, ports, true);
        final long published = stop(stranger, 60_000);

        assertTrue(published > 0, "the stranger published nothing");
        for (int r = 0; r < alone.size(); r++)
        {
            assertEquals(alone.get(0).digests, alone.get(r).digests, "ranks differ without the stranger");
            assertEquals(alone.get(r).digests, withStranger.get(r).digests,
                "rank " + r + ": the stranger changed the result");
            assertEquals(0, alone.get(r).rejected, "nothing refused without a stranger");
            assertTrue(withStranger.get(r).rejectedBeforeReducing > 0, "rank " + r + " counted no refused message " +
                "within 30 s of the stranger's publishing");
            assertTrue(withStranger.get(r).rejected > withStranger.get(r).rejectedBeforeReducing, "rank " + r +
                " refused nothing while it all-reduced: " + withStranger.get(r).rejected);
        }
    }

    private static final class Outcome
    {
        final List<Long> digests;
        final long rejectedBeforeReducing;
        final long rejected;

        Outcome(final List<Long> digests, final long rejectedBeforeReducing, final long rejected)
        {
            this.digests = digests;
            this.rejectedBeforeReducing = rejectedBeforeReducing;
            this.rejected = rejected;
        }
    }

    /**
     * Two ranks connect and all-reduce {@link #SIZES} three times (ring and small path). With a stranger, they first
     * wait (small all-reduces) until each has refused one of its messages, so the all-reduces run under its fire.
     */
    private static List<Outcome> reduce(final CollectiveSettings settings, final int[] ports, final boolean stranger)
        throws Exception
    {
        final List<PeerEndpoint> peers = localEndpoints(settings, ports);
        final ExecutorService pool = Executors.newFixedThreadPool(peers.size());
        try
        {
            final List<Future<Outcome>> futures = new ArrayList<>();
            for (int r = 0; r < peers.size(); r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (AeronCommunicator comm = new AeronCommunicator(settings, rank, peers, JOB, GENERATION,
                        TEST_KEY))
                    {
                        final long endMs = System.currentTimeMillis() + 30_000;
                        boolean waiting = stranger;
                        while (waiting)
                        {
                            final double[] notYet = {comm.rejectedMessages() == 0 ? 1 : 0};
                            comm.allReduceSmall(notYet, ReduceOp.SUM);
                            waiting = notYet[0] > 0 && System.currentTimeMillis() < endMs;
                            Thread.sleep(1);
                        }
                        final long before = comm.rejectedMessages();
                        final List<Long> digests = new ArrayList<>();
                        for (int round = 0; round < 3; round++)
                        {
                            for (final int size : SIZES)
                            {
                                final float[] data = input(size + round, rank, size);
                                comm.allReduce(data, ReduceOp.SUM);
                                digests.add(digest(data));
                            }
                        }
                        comm.barrier();
                        return new Outcome(digests, before, comm.rejectedMessages());
                    }
                }));
            }
            final List<Outcome> outcomes = new ArrayList<>();
            for (final Future<Outcome> future : futures)
            {
                outcomes.add(future.get(2, TimeUnit.MINUTES));
            }
            return outcomes;
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private ChildProcess startStranger(final CollectiveSettings.Transport transport, final int[] ports,
        final File driverDir) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(CollectiveTestSupport.jvmFlags());
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-Dstranger.sharedDriverDir=" + driverDir.getPath(),
            "-cp", System.getProperty("java.class.path"), Stranger.class.getName(), transport.name(), JOB,
            String.valueOf(GENERATION), String.valueOf(CHUNK_BYTES),
            Arrays.stream(ports).mapToObj(String::valueOf).collect(Collectors.joining(","))));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        return new ChildProcess(process);
    }

    /** Closes the stranger's standard input (which stops it) and returns the number of messages it published. */
    private static long stop(final ChildProcess stranger, final long timeoutMs) throws Exception
    {
        stranger.closeInput();
        final List<String> lines = stranger.finish(timeoutMs);
        assertEquals(0, stranger.process().exitValue(), "the stranger failed: " + lines);
        final String published = stranger.awaitLine("PUBLISHED ", 0);
        return Long.parseLong(published.substring("PUBLISHED ".length()).trim());
    }
}
