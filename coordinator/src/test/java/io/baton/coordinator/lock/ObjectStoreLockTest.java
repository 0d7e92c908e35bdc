package io.baton.coordinator.lock;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lock on a store without exclusive create and without settable file times (objstore://, S3's semantics without
 * conditional writes): refused unless the user opts in; with the opt-in it still refuses a second job and keeps
 * itself fresh by rewriting the file.
 */
class ObjectStoreLockTest
{
    @TempDir
    java.nio.file.Path dir;

    private FileSystem store() throws Exception
    {
        return FileSystem.get(URI.create("objstore:///"), new Configuration());
    }

    private Path root()
    {
        return new Path("objstore://" + dir.toAbsolutePath());
    }

    @Test
    void aStoreWithoutExclusiveCreateIsRefusedNamingTheStoreAndTheOptInAndNothingIsWritten() throws Exception
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> DirectoryLock.acquire(store(), root(), "baton train", Duration.ofSeconds(60)));
        assertTrue(ex.getMessage().contains("objstore:// cannot create the run lock baton.lock exclusively"),
            ex.getMessage());
        assertTrue(ex.getMessage().contains("run.lock-unsafe-store = true"), ex.getMessage());
        try (var files = Files.list(dir))
        {
            assertEquals(0, files.count(), "nothing written");
        }
    }

    @Test
    void withTheOptInASecondJobIsStillRefusedAndTheHolderRefreshesByRewritingTheFile() throws Exception
    {
        final Duration staleAfter = Duration.ofMillis(1200);
        try (DirectoryLock held = DirectoryLock.acquire(store(), root(), "baton train", staleAfter, true))
        {
            final long before = Files.getLastModifiedTime(dir.resolve(DirectoryLock.FILE_NAME)).toMillis();
            Thread.sleep(2 * staleAfter.toMillis());
            // setTimes does nothing here: only a rewrite keeps the lock fresh for longer than staleAfter.
            assertTrue(Files.getLastModifiedTime(dir.resolve(DirectoryLock.FILE_NAME)).toMillis() > before);
            final DirectoryInUseException ex = assertThrows(DirectoryInUseException.class,
                () -> DirectoryLock.acquire(store(), root(), "baton retrain", staleAfter, true));
            assertTrue(ex.getMessage().contains("is in use by baton train"), ex.getMessage());
        }
        assertFalse(Files.exists(dir.resolve(DirectoryLock.FILE_NAME)), "released");
    }
}
