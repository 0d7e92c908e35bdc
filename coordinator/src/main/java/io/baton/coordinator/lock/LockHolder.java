package io.baton.coordinator.lock;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Who holds a {@link DirectoryLock}: the job, its host, process id and process start, when it took the lock, and a
 * random token that tells this holder's file from any other. Stored as {@code key=value} lines in the lock file.
 *
 * @param job         the command holding the lock, e.g. {@code baton train}.
 * @param host        the holder's host name.
 * @param pid         the holder's process id, or -1 when unknown.
 * @param pidStartMs  the holder process's start (epoch ms), or -1 when unknown; tells a reused pid from the holder.
 * @param acquired    when the lock was taken.
 * @param token       unique per acquisition.
 */
record LockHolder(String job, String host, long pid, long pidStartMs, Instant acquired, String token)
{
    /** A process started within this of the recorded start is the same process (start times are rounded). */
    private static final long SAME_START_TOLERANCE_MS = 2_000;

    static LockHolder current(final String job)
    {
        final ProcessHandle self = ProcessHandle.current();
        return new LockHolder(job, localHost(), self.pid(), startMs(self), Instant.now(), UUID.randomUUID().toString());
    }

    String render()
    {
        return "job=" + job + "\nhost=" + host + "\npid=" + pid + "\npid-start-ms=" + pidStartMs + "\nacquired="
            + acquired + "\ntoken=" + token + "\n";
    }

    /** Parses a lock file's text; fields it lacks (a file still being written, or not ours) are left unknown. */
    static LockHolder parse(final String text)
    {
        final Map<String, String> fields = new LinkedHashMap<>();
        for (final String line : text.split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq > 0)
            {
                fields.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        Instant acquired = null;
        try
        {
            acquired = fields.containsKey("acquired") ? Instant.parse(fields.get("acquired")) : null;
        }
        catch (final RuntimeException ex)
        {
            acquired = null;
        }
        return new LockHolder(fields.getOrDefault("job", "?"), fields.getOrDefault("host", "?"),
            parseLong(fields.get("pid")), parseLong(fields.get("pid-start-ms")), acquired,
            fields.getOrDefault("token", ""));
    }

    /**
     * Why this holder no longer holds the lock, or null while it may: its process is gone (same host only), or the
     * lock file was not refreshed for {@code staleAfter}.
     */
    String staleReason(final Duration sinceRefresh, final Duration staleAfter)
    {
        if (host.equals(localHost()) && pid > 0)
        {
            final Optional<ProcessHandle> process = ProcessHandle.of(pid);
            if (process.isEmpty() || !process.get().isAlive())
            {
                return "its process " + pid + " on " + host + " is gone";
            }
            final long start = startMs(process.get());
            if (pidStartMs > 0 && start > 0 && Math.abs(start - pidStartMs) > SAME_START_TOLERANCE_MS)
            {
                return "its process " + pid + " on " + host + " is gone (the pid now belongs to another process)";
            }
        }
        if (sinceRefresh.compareTo(staleAfter) > 0)
        {
            return "it was last refreshed " + sinceRefresh.toSeconds() + " s ago (stale after " + staleAfter.toSeconds()
                + " s)";
        }
        return null;
    }

    /** For messages: {@code baton train on host-1 (pid 4242, since 2026-11-27T16:02:11Z)}. */
    String describe()
    {
        return job + " on " + host + " (pid " + (pid > 0 ? pid : "?") + ", since " + (acquired != null ? acquired
            : "?") + ")";
    }

    static String localHost()
    {
        try
        {
            return InetAddress.getLocalHost().getHostName();
        }
        catch (final Exception ex)
        {
            final String env = System.getenv("HOSTNAME");
            return env != null && !env.isBlank() ? env : "unknown-host";
        }
    }

    private static long startMs(final ProcessHandle process)
    {
        return process.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }

    private static long parseLong(final String value)
    {
        try
        {
            return value == null ? -1 : Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }
}
