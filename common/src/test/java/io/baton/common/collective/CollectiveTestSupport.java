package io.baton.common.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Shared helpers: deterministic inputs, reference sums, rank groups as threads, ports, JVM flags. */
final class CollectiveTestSupport
{
    static final long TEST_DEADLINE_NS = TimeUnit.SECONDS.toNanos(2);
    /** The stage key of the tests' ranks: fixed, so that ranks in other JVMs ({@link CollectiveWorker}) hold it too. */
    static final StageKey TEST_KEY = StageKey.fromHex("5eed".repeat(16));

    private CollectiveTestSupport()
    {
    }

    /** Settings used by the tests: 2 s deadline, 4 MB terms (several groups share one embedded driver). */
    static CollectiveSettings.Builder testSettings()
    {
        return CollectiveSettings.builder()
            .operationDeadlineNs(TEST_DEADLINE_NS)
            .connectDeadlineNs(TimeUnit.SECONDS.toNanos(20))
            .termLength(4 * 1024 * 1024);
    }

    /** Input of {@code rank} at index {@code i}: a float in [-1, 1) with a full random mantissa, random access. */
    static float value(final long seed, final int rank, final long i)
    {
        long z = seed * 0x9E3779B97F4A7C15L + rank * 0xBF58476D1CE4E5B9L + i * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return ((z >>> 40) - (1 << 23)) / (float)(1 << 23);
    }

    static float[] input(final long seed, final int rank, final int length)
    {
        final float[] data = new float[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = value(seed, rank, i);
        }
        return data;
    }

    /**
     * Checks {@code result} against the sequential double-precision sum of every rank's input: |error| within
     * N float roundings of the sum of magnitudes (any summation order of N floats stays inside it).
     *
     * @return null when every element is within tolerance, else a description of the first bad element.
     */
    static String compareToDoubleSum(final float[] result, final long seed, final int worldSize, final boolean avg)
    {
        for (int i = 0; i < result.length; i++)
        {
            double sum = 0;
            double magnitude = 0;
            for (int r = 0; r < worldSize; r++)
            {
                final double v = value(seed, r, i);
                sum += v;
                magnitude += Math.abs(v);
            }
            final double expected = avg ? sum / worldSize : sum;
            final double tolerance = (worldSize + 1) * Math.ulp(1.0f) * (avg ? magnitude / worldSize : magnitude) +
                Float.MIN_NORMAL;
            if (!(Math.abs(result[i] - expected) <= tolerance))
            {
                return "index " + i + " of " + result.length + ": got " + result[i] + ", expected " + expected +
                    " (tolerance " + tolerance + ")";
            }
        }
        return null;
    }

    /** Order-sensitive digest of the exact bits. */
    static long digest(final float[] data)
    {
        long h = 1125899906842597L;
        for (final float v : data)
        {
            h = 31 * h + Float.floatToRawIntBits(v);
        }
        return h;
    }

    static int[] freeUdpPorts(final int count)
    {
        final List<DatagramSocket> sockets = new ArrayList<>();
        try
        {
            final int[] ports = new int[count];
            for (int i = 0; i < count; i++)
            {
                final DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException(ex);
        }
        finally
        {
            sockets.forEach(DatagramSocket::close);
        }
    }

    static List<PeerEndpoint> localEndpoints(final CollectiveSettings settings, final int[] ports)
    {
        return Arrays.stream(ports).mapToObj((p) -> PeerEndpoint.local(settings, "127.0.0.1", p))
            .collect(Collectors.toList());
    }

    /** Runs {@code body} on one communicator per rank, each rank on its own thread; closes them all. */
    static <T> List<T> runRanks(
        final CollectiveSettings settings,
        final int worldSize,
        final String jobId,
        final long generation,
        final Function<AeronCommunicator, T> body) throws Exception
    {
        final List<PeerEndpoint> peers = localEndpoints(settings, freeUdpPorts(worldSize));
        final ExecutorService pool = Executors.newFixedThreadPool(worldSize);
        try
        {
            final List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < worldSize; r++)
            {
                final int rank = r;
                futures.add(pool.submit(() ->
                {
                    try (AeronCommunicator comm = new AeronCommunicator(settings, rank, peers, jobId, generation,
                        TEST_KEY))
                    {
                        return body.apply(comm);
                    }
                }));
            }
            final List<T> results = new ArrayList<>();
            for (final Future<T> future : futures)
            {
                results.add(future.get(5, TimeUnit.MINUTES));
            }
            return results;
        }
        finally
        {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Fails if an embedded driver still runs or is referenced, having closed it either way: a leak fails the test
     * that leaked it, instead of also every later test of the JVM (which would share the leaked driver, its
     * reference count and the leaked ranks' unpolled subscriptions, and time out in connect).
     */
    static void assertNoEmbeddedDriverLeft()
    {
        final String directory = EmbeddedDriver.activeDirectory();
        final int references = EmbeddedDriver.references();
        final int parkedLinks = EmbeddedDriver.parkedLinks();
        EmbeddedDriver.forceClose();
        assertNull(directory, "embedded driver still running after every rank closed (" + references
            + " reference(s), " + parkedLinks + " parked link(s); closed now for the next test)");
        assertEquals(0, references, "embedded driver references left");
    }

    static Set<Thread> liveThreads()
    {
        return new HashSet<>(Thread.getAllStackTraces().keySet());
    }

    /** Threads started since {@code before} that are still alive after waiting up to {@code waitMs}. */
    static List<String> newThreads(final Set<Thread> before, final long waitMs) throws InterruptedException
    {
        final long end = System.currentTimeMillis() + waitMs;
        List<String> extra;
        do
        {
            extra = new ArrayList<>();
            for (final Thread t : Thread.getAllStackTraces().keySet())
            {
                if (!before.contains(t) && t.isAlive() && !isJvmThread(t.getName()))
                {
                    extra.add(t.getName());
                }
            }
            if (extra.isEmpty())
            {
                return extra;
            }
            Thread.sleep(20);
        }
        while (System.currentTimeMillis() < end);
        return extra;
    }

    private static boolean isJvmThread(final String name)
    {
        return name.startsWith("process reaper") || name.equals("Attach Listener") ||
            name.startsWith("Common-Cleaner") || name.startsWith("surefire-forkedjvm") ||
            name.equals("Signal Dispatcher") || name.equals("Reference Handler") || name.equals("Finalizer");
    }

    /** The JVM flags every Baton JVM needs (conf/jvm.properties, packaged as a resource). */
    static List<String> jvmFlags()
    {
        try (InputStream in = CollectiveTestSupport.class.getResourceAsStream("/io/baton/common/jvm.properties"))
        {
            final Properties properties = new Properties();
            properties.load(in);
            return Arrays.stream(properties.getProperty("baton.jvm.flags").trim().split("\\s+"))
                .collect(Collectors.toList());
        }
        catch (final IOException | NullPointerException ex)
        {
            throw new IllegalStateException("cannot read io/baton/common/jvm.properties from the class path", ex);
        }
    }
}
