package io.baton.common.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.baton.common.collective.CollectiveConfigs;
import io.baton.common.collective.CollectiveSettings;
import io.baton.common.collective.PeerEndpoint;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    @Test
    void defaultsComeFromTheReferenceFileWithADocLinePerKey()
    {
        final BatonConfig config = loader.defaults();
        assertEquals(Duration.ofSeconds(30), config.get(CommonKeys.COLLECTIVE_TIMEOUT));
        assertEquals(8L * 1024 * 1024, config.get(CommonKeys.COLLECTIVE_TERM_LENGTH));
        for (final String key : config.def().keys().keySet())
        {
            assertTrue(!config.def().doc(key).isEmpty(), "no doc for " + key);
        }
    }

    @Test
    void overridesWinOverTheJobFileWhichWinsOverDefaults(@TempDir final Path dir) throws Exception
    {
        final Path job = dir.resolve("job.conf");
        Files.writeString(job, "job.name = from-file\ncollective.port = 40100\n");
        final BatonConfig config = loader.load(job, List.of("collective.port=40200", "collective.timeout=2s"));
        assertEquals("from-file", config.get(CommonKeys.JOB_NAME));
        assertEquals(40200, config.get(CommonKeys.COLLECTIVE_PORT));
        assertEquals(Duration.ofSeconds(2), config.get(CommonKeys.COLLECTIVE_TIMEOUT));
    }

    @Test
    void unknownKeyIsRefusedWithDidYouMean()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.timout=5s")));
        assertEquals(1, ex.errors().size(), ex.getMessage());
        assertTrue(ex.getMessage().contains("unknown key 'collective.timout'"), ex.getMessage());
        assertTrue(ex.getMessage().contains("did you mean 'collective.timeout'?"), ex.getMessage());
    }

    @Test
    void wrongTypeNamesKeyValueAndExpectedType()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.port=many")));
        assertTrue(ex.getMessage().contains("collective.port = \"many\": wrong type, expected int"), ex.getMessage());
    }

    @Test
    void ruleViolationNamesKeyValueAndWhatIsAllowed()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.term-length=3m")));
        assertTrue(ex.getMessage().contains("collective.term-length = \"3m\": not allowed; allowed: bytes, "
            + "a power of two between 64k and 1g"), ex.getMessage());
    }

    @Test
    void everyProblemIsReportedAtOnce()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.port=1", "collective.mtu=7", "nope.key=1")));
        assertEquals(3, ex.errors().size(), ex.getMessage());
    }

    @Test
    void crossCheckRequiresDriverDirForExternalDriver()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.driver=external")));
        assertTrue(ex.getMessage().contains("collective.driver-dir is not set but collective.driver = external"),
            ex.getMessage());
    }

    @Test
    void sharedDriverNeedsNoDirectoryAndDefaultsToOnePerUserUnderTheDriverParent()
    {
        final CollectiveSettings settings = CollectiveConfigs.settings(
            loader.load(null, List.of("collective.driver=shared")));
        assertEquals(CollectiveSettings.DriverMode.SHARED, settings.driverMode());
        final PeerEndpoint endpoint = PeerEndpoint.local(settings, "127.0.0.1", 40700);
        assertEquals("dir:" + new File(settings.embeddedDriverParentDirectory(),
            "baton-aeron-" + System.getProperty("user.name")).getAbsolutePath(), endpoint.driverId());
        final CollectiveSettings chosen = CollectiveConfigs.settings(
            loader.load(null, List.of("collective.driver=shared", "collective.driver-dir=/dev/shm/team-driver")));
        assertEquals("dir:/dev/shm/team-driver", PeerEndpoint.local(chosen, "127.0.0.1", 40700).driverId());
    }

    @Test
    void missingJobFileIsNamed()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(Path.of("/no/such/job.conf"), List.of()));
        assertTrue(ex.getMessage().contains("/no/such/job.conf does not exist"), ex.getMessage());
    }

    @Test
    void overrideValuesWithSpecialCharactersNeedNoQuoting()
    {
        final BatonConfig config = loader.load(null, List.of("collective.driver-dir=/dev/shm/aeron-x:1"));
        assertEquals("/dev/shm/aeron-x:1", config.get(CommonKeys.COLLECTIVE_DRIVER_DIR));
    }

    @Test
    void trajectoryHashIgnoresKeysThatDoNotChangeTheTrajectory()
    {
        final String base = loader.defaults().trajectoryHash();
        assertEquals(base, loader.load(null, List.of("collective.port=40300")).trajectoryHash());
    }

    @Test
    void suggestionsPreferCloseSpellings()
    {
        assertEquals("a.timeout", ConfigLoader.closest("a.timeuot", List.of("a.timeout", "b.port")));
        assertEquals("x.port", ConfigLoader.closest("y.port", List.of("a.timeout", "x.port")));
        assertNotEquals("a.timeout", ConfigLoader.closest("zzzzzzzzzzzzzz", List.of("a.timeout")));
    }

    @Test
    void aKeyNamedAsInOtherFrameworksIsMatchedByAWordOfItsSection()
    {
        final List<String> keys = List.of("train.global-batch", "train.epochs", "data.prefetch-batches",
            "optim.base-lr", "optim.base-batch", "optim.momentum");
        assertEquals("train.global-batch", ConfigLoader.closest("train.batch-size", keys));
        // a whole word of a key beats a key fewer edits away
        assertEquals("optim.base-lr", ConfigLoader.closest("optim.lr", List.of("optim.lars", "optim.base-lr")));
        // two keys of the section share the word: no guess
        assertNull(ConfigLoader.closest("optim.base-learning-rate", keys));
        // the word must be in the same section
        assertNull(ConfigLoader.closest("model.batch-norm-momentum", keys));
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("collective.checksum-period-steps=50")));
        assertTrue(ex.getMessage().contains("unknown key 'collective.checksum-period-steps'"), ex.getMessage());
        assertTrue(ex.getMessage().contains("did you mean 'collective.checksum-every'?"), ex.getMessage());
    }
}
