package io.baton.common.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host-shared media driver: started once, used by every communicator of the host over IPC, gone when idle. */
class SharedDriverTest
{
    private static final Pattern STARTED = Pattern.compile("\\(pid (\\d+)\\): started in ");

    @TempDir
    Path temp;

    private File dir;

    @AfterEach
    void stopDrivers() throws IOException
    {
        if (dir != null)
        {
            for (final long pid : startedPids())
            {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    private CollectiveSettings shared(final long idleExitMs)
    {
        dir = temp.resolve("driver").toFile();
        return CollectiveTestSupport.testSettings()
            .driverMode(CollectiveSettings.DriverMode.SHARED)
            .externalDriverDirectory(dir.getPath())
            .sharedDriverIdleExitNs(TimeUnit.MILLISECONDS.toNanos(idleExitMs))
            .build();
    }

    private String log() throws IOException
    {
        final Path log = dir.toPath().resolveSibling(dir.getName() + ".log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    private List<Long> startedPids() throws IOException
    {
        final Matcher m = STARTED.matcher(log());
        final List<Long> pids = new java.util.ArrayList<>();
        while (m.find())
        {
            pids.add(Long.parseLong(m.group(1)));
        }
        return pids;
    }

    /** Two ranks (threads) all-reduce through the shared driver; returns their transports. */
    private List<String> reduceOnce(final CollectiveSettings settings, final String jobId) throws Exception
    {
        final AtomicReference<String> error = new AtomicReference<>();
        final List<String> transports = CollectiveTestSupport.runRanks(settings, 2, jobId, 1, (comm) ->
        {
            assertEquals(dir.getPath(), comm.aeronDirectory());
            final float[] data = CollectiveTestSupport.input(3, comm.rank(), 100_000);
            comm.allReduce(data, ReduceOp.SUM);
            final String bad = CollectiveTestSupport.compareToDoubleSum(data, 3, 2, false);
            if (bad != null)
            {
                error.compareAndSet(null, "rank " + comm.rank() + ": " + bad);
            }
            return comm.transport().name();
        });
        assertNull(error.get());
        return transports;
    }

    private static void awaitExit(final long pid, final long timeoutMs) throws InterruptedException
    {
        final long end = System.currentTimeMillis() + timeoutMs;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        {
            assertTrue(System.currentTimeMillis() < end, "driver process " + pid + " still running");
            Thread.sleep(50);
        }
    }

    @Test
    void ranksOnOneHostStartOneDriverProcessTalkOverIpcAndItExitsWhenIdle() throws Exception
    {
        final CollectiveSettings settings = shared(1000);
        assertEquals(List.of("IPC", "IPC"), reduceOnce(settings, "job-shared"));
        final List<Long> pids = startedPids();
        assertEquals(1, pids.size(), "exactly one driver process for two ranks: " + log());
        assertNotEquals(ProcessHandle.current().pid(), (long)pids.get(0), "the driver runs in a process of its own");

        awaitExit(pids.get(0), 20_000);
        assertTrue(log().contains("no client for"), log());
        assertFalse(SharedDriver.alive(dir));
        assertFalse(dir.exists(), "an idle driver removes its directory on exit");

        // The next job on the host starts a new one.
        assertEquals(List.of("IPC", "IPC"), reduceOnce(settings, "job-shared-2"));
        assertEquals(2, startedPids().size(), log());
    }

    @Test
    void twoJobsOnOneSharedDriverNeverSeeEachOthersMessages() throws Exception
    {
        final CollectiveSettings settings = shared(60_000);
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try
        {
            final List<java.util.concurrent.Future<List<String>>> jobs = new java.util.ArrayList<>();
            for (final String job : List.of("job-x", "job-y"))
            {
                jobs.add(pool.submit(() -> CollectiveTestSupport.runRanks(settings, 2, job, 1, (comm) ->
                {
                    for (int round = 0; round < 20; round++)
                    {
                        final float[] data = CollectiveTestSupport.input(round, comm.rank(), 50_000);
                        comm.allReduce(data, ReduceOp.SUM);
                        assertNull(CollectiveTestSupport.compareToDoubleSum(data, round, 2, false));
                    }
                    return comm.transport() + " foreign=" + comm.droppedForeignMessages();
                })));
            }
            for (final java.util.concurrent.Future<List<String>> job : jobs)
            {
                assertEquals(List.of("IPC foreign=0", "IPC foreign=0"), job.get(2, TimeUnit.MINUTES));
            }
            assertEquals(1, startedPids().size(), log());
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void ranksSharingTheDriverTalkIpcBetweenThemAndUdpToARankThatDoesNot() throws Exception
    {
        // Ranks 0 and 1 stand for two executors of one host on its shared driver, rank 2 for an executor elsewhere
        // (its own embedded driver): 0 <-> 1 over IPC, both <-> 2 over UDP (through the shared driver process).
        final CollectiveSettings shared = shared(60_000);
        final CollectiveSettings embedded = CollectiveTestSupport.testSettings().build();
        final int[] ports = CollectiveTestSupport.freeUdpPorts(3);
        final List<PeerEndpoint> peers = List.of(PeerEndpoint.local(shared, "127.0.0.1", ports[0]),
            PeerEndpoint.local(shared, "127.0.0.1", ports[1]), PeerEndpoint.local(embedded, "127.0.0.1", ports[2]));
        final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try
        {
            final List<java.util.concurrent.Future<String>> ranks = new java.util.ArrayList<>();
            for (int r = 0; r < 3; r++)
            {
                final int rank = r;
                ranks.add(pool.submit(() ->
                {
                    try (AeronCommunicator comm = new AeronCommunicator(rank < 2 ? shared : embedded, rank, peers,
                        "job-mixed", 1, CollectiveTestSupport.TEST_KEY))
                    {
                        final StringBuilder out = new StringBuilder(comm.transport().name());
                        for (final int size : new int[] {100, 300_000})
                        {
                            final float[] data = CollectiveTestSupport.input(size, rank, size);
                            comm.allReduce(data, ReduceOp.SUM);
                            assertNull(CollectiveTestSupport.compareToDoubleSum(data, size, 3, false));
                            out.append(' ').append(CollectiveTestSupport.digest(data));
                        }
                        final double[] stats = {rank, 1};
                        comm.allReduceSmall(stats, ReduceOp.SUM);
                        out.append(' ').append(stats[0]).append('/').append(stats[1]);
                        return out.toString();
                    }
                }));
            }
            final String r0 = ranks.get(0).get(2, TimeUnit.MINUTES);
            final String r1 = ranks.get(1).get(2, TimeUnit.MINUTES);
            final String r2 = ranks.get(2).get(2, TimeUnit.MINUTES);
            assertTrue(r0.startsWith("MIXED "), r0);
            assertTrue(r1.startsWith("MIXED "), r1);
            assertTrue(r2.startsWith("UDP "), r2);
            assertEquals(r0.substring(6), r1.substring(6), "bit-identical results on every rank");
            assertEquals(r0.substring(6), r2.substring(4), "bit-identical results on every rank");
            assertTrue(r0.endsWith(" 3.0/3.0"), r0);
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @Test
    void aDriverLogLargerThanTheCapIsRotatedKeepingOnePreviousOne(@TempDir final java.nio.file.Path logs)
        throws Exception
    {
        final java.nio.file.Path log = logs.resolve("baton-aeron.log");
        java.nio.file.Files.write(log, new byte[100]);
        SharedDriver.rotateLog(log.toFile(), 100);
        assertTrue(java.nio.file.Files.exists(log), "a log within the cap is kept as it is");

        java.nio.file.Files.write(logs.resolve("baton-aeron.log.1"), new byte[7]);
        java.nio.file.Files.write(log, new byte[101]);
        SharedDriver.rotateLog(log.toFile(), 100);
        assertFalse(java.nio.file.Files.exists(log), "the next driver starts a fresh log");
        assertEquals(101, java.nio.file.Files.size(logs.resolve("baton-aeron.log.1")), "one previous log kept");
        assertEquals(List.of("baton-aeron.log.1"), java.nio.file.Files.list(logs).map(p -> p.getFileName().toString())
            .toList());
    }

    @Test
    void aKilledDriverIsReplacedByTheNextCommunicator() throws Exception
    {
        final CollectiveSettings settings = shared(60_000);
        reduceOnce(settings, "job-before-kill");
        final long first = startedPids().get(0);
        assertTrue(SharedDriver.alive(dir));
        ProcessHandle.of(first).orElseThrow().destroyForcibly();
        awaitExit(first, 10_000);
        // Its heartbeat in the CnC file is still fresh: only the pid check tells it is gone.
        assertFalse(SharedDriver.alive(dir), "a killed driver must not count as alive");

        assertEquals(List.of("IPC", "IPC"), reduceOnce(settings, "job-after-kill"));
        final List<Long> pids = startedPids();
        assertEquals(2, pids.size(), log());
        assertNotEquals(first, pids.get(1));
    }

    @Test
    void aLockHeldByAnotherProcessFailsTheConnectNamingTheLockFileInsteadOfHanging() throws Exception
    {
        final CollectiveSettings settings = shared(1000).toBuilder()
            .connectDeadlineNs(TimeUnit.MILLISECONDS.toNanos(300)).build();
        assertTrue(dir.mkdirs());
        // Java's file locks are per process: a second channel of this JVM would throw OverlappingFileLockException
        // instead of waiting, so another JVM holds it.
        final Process holder = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), LockHolder.class.getName(), SharedDriver.lockFile(dir).getPath())
            .redirectErrorStream(true).start();
        try
        {
            final String line = new java.io.BufferedReader(new java.io.InputStreamReader(
                holder.getInputStream(), StandardCharsets.UTF_8)).readLine();
            assertEquals("LOCKED", line);
            final long startNs = System.nanoTime();
            final IllegalStateException ex = assertThrows(IllegalStateException.class,
                () -> SharedDriver.acquire(settings));
            assertTrue(ex.getMessage().contains(SharedDriver.lockFile(dir).getPath()), ex.getMessage());
            assertTrue(ex.getMessage().contains("stayed locked"), ex.getMessage());
            assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(10), "waited far past the deadline");
            assertTrue(startedPids().isEmpty(), "no driver may start without the lock: " + log());
        }
        finally
        {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Holds a file lock (argument) and prints LOCKED until killed. */
    public static final class LockHolder
    {
        private LockHolder()
        {
        }

        public static void main(final String[] args) throws Exception
        {
            try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(args[0], "rw");
                java.nio.channels.FileLock lock = file.getChannel().lock())
            {
                System.out.println("LOCKED");
                System.out.flush();
                Thread.sleep(60_000);
            }
        }
    }
}
