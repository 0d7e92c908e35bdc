package io.baton.coordinator.lock;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectoryLockTest
{
    private static final Duration STALE_AFTER = Duration.ofSeconds(60);

    @TempDir
    java.nio.file.Path dir;

    private final FileSystem fs = local();

    private static FileSystem local()
    {
        try
        {
            return FileSystem.getLocal(new Configuration()).getRaw();
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    private Path root()
    {
        return new Path(dir.toUri());
    }

    private java.nio.file.Path lockFile()
    {
        return dir.resolve(DirectoryLock.FILE_NAME);
    }

    private void writeForeignLock(final String host, final long pid, final Instant modified) throws Exception
    {
        Files.writeString(lockFile(), new LockHolder("baton train", host, pid, -1, Instant.parse(
            "2026-11-27T10:00:00Z"), "foreign-token").render());
        Files.setLastModifiedTime(lockFile(), FileTime.from(modified));
    }

    @Test
    void aSecondJobOnALockedDirectoryIsRefusedNamingTheHolderAndHowToProceed()
    {
        try (DirectoryLock first = DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER))
        {
            final DirectoryInUseException refused = assertThrows(DirectoryInUseException.class,
                () -> DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER));
            final String message = refused.getMessage();
            assertTrue(message.contains(" is in use by baton train on " + LockHolder.localHost() + " (pid "
                + ProcessHandle.current().pid() + ", since "), message);
            assertTrue(message.contains("run.lock-stale-after") && message.contains(lockFile().toString()), message);
            assertTrue(Files.exists(lockFile()));
        }
        assertFalse(Files.exists(lockFile()), "close removes the lock");
    }

    @Test
    void closingReleasesTheDirectoryForTheNextJob()
    {
        DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER).close();
        try (DirectoryLock next = DirectoryLock.acquire(fs, root(), "baton retrain", STALE_AFTER))
        {
            assertEquals(lockFile().toString(), java.nio.file.Path.of(next.file().toUri()).toString());
        }
    }

    @Test
    void aLockLeftByAProcessOnThisHostThatIsGoneIsTakenOverAtOnce() throws Exception
    {
        final Process gone = new ProcessBuilder("true").start();
        assertEquals(0, gone.waitFor());
        writeForeignLock(LockHolder.localHost(), gone.pid(), Instant.now());
        try (DirectoryLock taken = DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER))
        {
            assertTrue(Files.readString(lockFile()).contains("pid=" + ProcessHandle.current().pid() + "\n"));
        }
    }

    @Test
    void aLockOfAnotherHostIsTakenOverOnlyOnceItWasNotRefreshedForStaleAfter() throws Exception
    {
        writeForeignLock("trainer-host-7", 4242, Instant.now().minusSeconds(5));
        final DirectoryInUseException refused = assertThrows(DirectoryInUseException.class,
            () -> DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER));
        assertTrue(refused.getMessage().contains("in use by baton train on trainer-host-7 (pid 4242, since "
            + "2026-11-27T10:00:00Z), lock refreshed 5 s ago"), refused.getMessage());
        assertTrue(Files.readString(lockFile()).contains("token=foreign-token"), "the refused job changed the lock");

        writeForeignLock("trainer-host-7", 4242, Instant.now().minus(STALE_AFTER).minusSeconds(5));
        try (DirectoryLock taken = DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER))
        {
            assertFalse(Files.readString(lockFile()).contains("foreign-token"));
        }
        try (var left = Files.list(dir))
        {
            assertEquals(0, left.count(), "nothing left behind after the takeover and close");
        }
    }

    @Test
    void theHolderKeepsRefreshingItsLockSoALongJobIsNeverTakenOver() throws Exception
    {
        final Duration staleAfter = Duration.ofSeconds(2);
        try (DirectoryLock held = DirectoryLock.acquire(fs, root(), "baton train", staleAfter))
        {
            // As if the job had run for a minute without a refresh: the next refresh (every 0.5 s) moves it forward.
            final Instant old = Instant.now().minusSeconds(60);
            Files.setLastModifiedTime(lockFile(), FileTime.from(old));
            final long deadlineNs = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (Files.getLastModifiedTime(lockFile()).toInstant().equals(old) && System.nanoTime() < deadlineNs)
            {
                Thread.sleep(50);
            }
            assertTrue(Files.getLastModifiedTime(lockFile()).toInstant().isAfter(old.plusSeconds(50)),
                "not refreshed");
            // A job on another host would now see a fresh lock; here the holder's process is alive anyway.
            assertThrows(DirectoryInUseException.class,
                () -> DirectoryLock.acquire(fs, root(), "baton train", staleAfter));
        }
    }

    @Test
    void aHolderWhoseLockWasTakenOverLeavesTheNewHoldersLockInPlace() throws Exception
    {
        final DirectoryLock first = DirectoryLock.acquire(fs, root(), "baton train", STALE_AFTER);
        writeForeignLock("trainer-host-7", 4242, Instant.now());
        first.close();
        assertTrue(Files.readString(lockFile()).contains("token=foreign-token"));
    }
}
