package io.baton.common.collective;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Emulated hosts for tests (issue 24): one Linux network namespace per rank, each with a veth pair into a bridge in a
 * "switch" namespace of its own, addresses {@code 10.77.0.(rank + 1)/24} that exist only inside those namespaces (the
 * root namespace gets no interface, address or route, so concurrent sets with the same subnet cannot collide). The
 * same topology as {@code bench/collectives/netns.sh}, built in Java so that the test needs no script.
 * Namespaces are named {@code batontest-<pid>-<n>-sw|rR}; {@link #close} kills whatever still runs in them and
 * deletes them, and {@link #sweepStale} removes sets whose creating JVM is gone (a test run killed before cleanup).
 */
final class EmulatedHosts implements AutoCloseable
{
    private static final String NAME_ROOT = "batontest-";
    private static final String SUBNET = "10.77.0.";
    private static int created;

    private final String prefix;
    private final int count;
    private final List<String> namespaces = new ArrayList<>();

    private EmulatedHosts(final String prefix, final int count)
    {
        this.prefix = prefix;
        this.count = count;
    }

    /** Null when this process can build namespaces here, else why not (for a test assumption). */
    static String unavailableReason()
    {
        try
        {
            final String uid = run("id", "-u").trim();
            if (!"0".equals(uid))
            {
                return "emulated hosts need root for `ip netns add` and `tc` (uid=" + uid + ")";
            }
            final String probe = NAME_ROOT + ProcessHandle.current().pid() + "-probe";
            run("ip", "netns", "add", probe);
            run("ip", "netns", "del", probe);
            return null;
        }
        catch (final IOException | IllegalStateException ex)
        {
            return "emulated hosts need `ip netns add` (iproute2, network namespaces): " + ex.getMessage();
        }
    }

    /** {@code count} hosts on one bridge, links up, with link MTU {@code linkMtu}. */
    static synchronized EmulatedHosts create(final int count, final int linkMtu) throws IOException
    {
        final EmulatedHosts hosts = new EmulatedHosts(NAME_ROOT + ProcessHandle.current().pid() + "-" + created++,
            count);
        try
        {
            final String sw = hosts.switchNamespace();
            hosts.addNamespace(sw);
            run("ip", "-n", sw, "link", "add", "br0", "type", "bridge");
            run("ip", "-n", sw, "link", "set", "br0", "mtu", String.valueOf(linkMtu), "up");
            for (int r = 0; r < count; r++)
            {
                final String ns = hosts.namespace(r);
                hosts.addNamespace(ns);
                // Created straight into both namespaces: the pair never appears in the root namespace.
                run("ip", "link", "add", "eth0", "netns", ns, "mtu", String.valueOf(linkMtu), "type", "veth", "peer",
                    "name", "v" + r, "netns", sw, "mtu", String.valueOf(linkMtu));
                run("ip", "-n", sw, "link", "set", "v" + r, "master", "br0", "up");
                run("ip", "-n", ns, "addr", "add", hosts.address(r) + "/24", "dev", "eth0");
                run("ip", "-n", ns, "link", "set", "eth0", "up");
            }
            return hosts;
        }
        catch (final IOException | RuntimeException ex)
        {
            hosts.close();
            throw ex;
        }
    }

    private void addNamespace(final String ns) throws IOException
    {
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
    }

    String namespace(final int rank)
    {
        return prefix + "-r" + rank;
    }

    private String switchNamespace()
    {
        return prefix + "-sw";
    }

    String address(final int rank)
    {
        return SUBNET + (rank + 1);
    }

    /** Every host's address, in rank order, comma separated. */
    String addresses()
    {
        final StringBuilder sb = new StringBuilder();
        for (int r = 0; r < count; r++)
        {
            sb.append(r == 0 ? "" : ",").append(address(r));
        }
        return sb.toString();
    }

    /** The command prefix that runs a program on host {@code rank}. */
    List<String> exec(final int rank)
    {
        return List.of("ip", "netns", "exec", namespace(rank));
    }

    /** Takes host {@code rank}'s link down: the host keeps running, its address stops answering. */
    void linkDown(final int rank) throws IOException
    {
        run("ip", "-n", namespace(rank), "link", "set", "eth0", "down");
    }

    /** Limits what host {@code rank} sends to {@code rate} (tc units, e.g. 1mbit) with a token bucket. */
    void limitEgress(final int rank, final String rate) throws IOException
    {
        run("ip", "netns", "exec", namespace(rank), "tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", rate,
            "burst", "16kb", "latency", "50ms");
    }

    /** Bytes host {@code rank} has sent over its link (not loopback). */
    long sentBytes(final int rank) throws IOException
    {
        return Long.parseLong(run("ip", "netns", "exec", namespace(rank), "cat",
            "/sys/class/net/eth0/statistics/tx_bytes").trim());
    }

    /** Kills every process still in these namespaces, then deletes them (with their veths and bridge). */
    @Override
    public void close()
    {
        for (final String ns : namespaces)
        {
            killProcessesIn(ns);
        }
        for (final String ns : namespaces)
        {
            deleteQuietly(ns);
        }
        namespaces.clear();
    }

    /** Deletes namespace sets of earlier test JVMs that are gone (killed before their cleanup ran). */
    static void sweepStale()
    {
        try
        {
            for (final String line : run("ip", "netns", "list").split("\n"))
            {
                final String ns = line.split(" ")[0];
                if (!ns.startsWith(NAME_ROOT))
                {
                    continue;
                }
                final String[] parts = ns.substring(NAME_ROOT.length()).split("-");
                final long pid = parts[0].matches("\\d+") ? Long.parseLong(parts[0]) : -1;
                if (pid >= 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                {
                    continue;
                }
                killProcessesIn(ns);
                deleteQuietly(ns);
            }
        }
        catch (final IOException | IllegalStateException ex)
        {
            // nothing to sweep where namespaces are unavailable
        }
    }

    private static void killProcessesIn(final String ns)
    {
        try
        {
            for (final String pid : run("ip", "netns", "pids", ns).split("\\s+"))
            {
                if (!pid.isBlank())
                {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        catch (final IOException | IllegalStateException ex)
        {
            // already gone
        }
    }

    private static void deleteQuietly(final String ns)
    {
        try
        {
            run("ip", "netns", "del", ns);
        }
        catch (final IOException | IllegalStateException ex)
        {
            // already gone
        }
    }

    /** Runs a command to completion; its output, or IllegalStateException naming it and its output. */
    static String run(final String... command) throws IOException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (InputStream in = process.getInputStream())
        {
            final String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + ": still running after 30 s");
            }
            if (process.exitValue() != 0)
            {
                throw new IllegalStateException(String.join(" ", command) + ": exit " + process.exitValue() + ": " +
                    out.trim());
            }
            return out;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted: " + String.join(" ", command), ex);
        }
    }
}
