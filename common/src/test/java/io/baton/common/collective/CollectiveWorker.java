package io.baton.common.collective;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A rank in its own JVM, started by {@link AeronCommunicatorProcessTest}. Arguments:
 * {@code mode rank ports(comma separated) jobId generation seed sizes(comma separated)}. Modes:
 * {@code reduce} all-reduces (SUM) each size and prints {@code RESULT size digest error|ok};
 * {@code idle} connects, prints {@code CONNECTED} and waits to be killed;
 * {@code survive} connects, prints {@code CONNECTED}, sleeps 1 s, then attempts an all-reduce and prints
 * {@code FAILED elapsedMs message} or {@code UNEXPECTED}; {@code await-go} is {@code survive} but waits for a line on
 * stdin instead of sleeping (the test breaks something first). Every mode prints {@code CLEAN} or {@code LEAK ...}
 * after close. UDP through an embedded driver, or with {@code -Dworker.sharedDriverDir=DIR} the host-shared driver in
 * DIR (transport AUTO). {@code -Dworker.hosts=A,B,...} gives each rank's address (default 127.0.0.1 for all).
 */
public final class CollectiveWorker
{
    private CollectiveWorker()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String mode = args[0];
        final int rank = Integer.parseInt(args[1]);
        final String[] portText = args[2].split(",");
        final int[] ports = new int[portText.length];
        for (int i = 0; i < ports.length; i++)
        {
            ports[i] = Integer.parseInt(portText[i]);
        }
        final String jobId = args[3];
        final long generation = Long.parseLong(args[4]);
        final long seed = Long.parseLong(args[5]);
        final List<Integer> sizes = new ArrayList<>();
        for (final String s : args[6].split(","))
        {
            sizes.add(Integer.parseInt(s));
        }
        // -Dworker.sharedDriverDir=DIR: the host-shared driver in DIR (transport AUTO: IPC between workers).
        final String sharedDir = System.getProperty("worker.sharedDriverDir");
        final CollectiveSettings settings = sharedDir == null
            ? CollectiveTestSupport.testSettings().transport(CollectiveSettings.Transport.UDP).build()
            : CollectiveTestSupport.testSettings().driverMode(CollectiveSettings.DriverMode.SHARED)
                .externalDriverDirectory(sharedDir).sharedDriverIdleExitNs(TimeUnit.MILLISECONDS.toNanos(
                    Long.getLong("worker.sharedIdleExitMs", 1000))).build();
        final Set<Thread> before = CollectiveTestSupport.liveThreads();
        String directory;
        try (AeronCommunicator comm = new AeronCommunicator(
            settings, rank, endpoints(settings, ports), jobId, generation,
            CollectiveTestSupport.TEST_KEY))
        {
            directory = comm.aeronDirectory();
            System.out.println("CONNECTED " + comm.transport());
            switch (mode)
            {
                case "reduce":
                    for (final int size : sizes)
                    {
                        final float[] data = CollectiveTestSupport.input(seed, rank, size);
                        comm.allReduce(data, ReduceOp.SUM);
                        final String error = CollectiveTestSupport.compareToDoubleSum(data, seed, ports.length, false);
                        System.out.println("RESULT " + size + " " + CollectiveTestSupport.digest(data) + " " +
                            (error == null ? "ok" : error.replace(' ', '_')));
                    }
                    break;
                case "idle":
                    Thread.sleep(TimeUnit.MINUTES.toMillis(2));
                    break;
                case "survive":
                case "await-go":
                    if ("survive".equals(mode))
                    {
                        Thread.sleep(1000);
                    }
                    else
                    {
                        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                    }
                    final long startNs = System.nanoTime();
                    try
                    {
                        comm.allReduce(CollectiveTestSupport.input(seed, rank, sizes.get(0)), ReduceOp.SUM);
                        System.out.println("UNEXPECTED success");
                    }
                    catch (final CollectiveException ex)
                    {
                        System.out.println("FAILED " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs) +
                            " missing=" + ex.missingRanks() + " " + ex.getMessage());
                    }
                    break;
                default:
                    throw new IllegalArgumentException("mode=" + mode);
            }
        }
        final List<String> leaked = CollectiveTestSupport.newThreads(before, 2000);
        // A shared driver outlives its clients (it exits when idle); only an embedded one's directory must be gone.
        final boolean dirLeft = sharedDir == null && new File(directory).exists();
        System.out.println(leaked.isEmpty() && !dirLeft ? "CLEAN" :
            "LEAK threads=" + leaked + " directoryLeft=" + dirLeft);
        System.out.flush();
    }

    /** Loopback endpoints, or with {@code -Dworker.hosts} each rank at its own address (emulated hosts). */
    private static List<PeerEndpoint> endpoints(final CollectiveSettings settings, final int[] ports)
    {
        final String hosts = System.getProperty("worker.hosts");
        if (hosts == null)
        {
            return CollectiveTestSupport.localEndpoints(settings, ports);
        }
        final String[] addresses = hosts.split(",");
        final List<PeerEndpoint> endpoints = new ArrayList<>();
        for (int r = 0; r < ports.length; r++)
        {
            endpoints.add(PeerEndpoint.local(settings, addresses[r], ports[r]));
        }
        return endpoints;
    }
}
