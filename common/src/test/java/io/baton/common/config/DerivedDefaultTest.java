package io.baton.common.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A key left unset gets its value from other keys when loaded, and then behaves exactly like a set one. */
class DerivedDefaultTest
{
    /** collective.host (null in the reference) derived from job.name, for the test only. */
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.builder().add(CommonKeys.ALL)
        .derive(new ConfigDef.Derived<>(CommonKeys.COLLECTIVE_HOST, List.of(CommonKeys.JOB_NAME),
            c -> c.get(CommonKeys.JOB_NAME).equals("blank") ? " " : "host-of-" + c.get(CommonKeys.JOB_NAME)))
        .build());

    @Test
    void anUnsetKeyIsDerivedIntoTheValuesAndTheRenderedConfiguration()
    {
        final BatonConfig config = loader.load(null, List.of("job.name=j1"));
        assertEquals("host-of-j1", config.get(CommonKeys.COLLECTIVE_HOST));
        assertTrue(config.render().contains("host-of-j1"), config.render());
        assertEquals(Map.of("collective.host", "derived from job.name = j1"), config.derived());
    }

    @Test
    void aSetKeyIsNotDerived()
    {
        final BatonConfig config = loader.load(null, List.of("job.name=j1", "collective.host=10.0.0.1"));
        assertEquals("10.0.0.1", config.get(CommonKeys.COLLECTIVE_HOST));
        assertTrue(config.derived().isEmpty(), config.derived().toString());
    }

    @Test
    void aRenderedConfigurationLoadsToTheSameValuesWithNothingLeftToDerive()
    {
        final BatonConfig config = loader.load(null, List.of("job.name=j1"));
        final BatonConfig again = loader.loadText(config.render(), List.of("job.name=j2"));
        assertEquals(config.values().get("collective.host"), again.get(CommonKeys.COLLECTIVE_HOST));
        assertTrue(again.derived().isEmpty(), again.derived().toString());
        assertEquals(config.trajectoryHash(), loader.loadText(config.render()).trajectoryHash());
    }

    @Test
    void aDerivedValueThatBreaksTheKeysRuleIsAnErrorNamingKeyValueAndSource()
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of("job.name=blank")));
        assertEquals(List.of("collective.host =   (not set, derived from job.name = blank): not allowed; allowed: "
            + "string, a host name or address; set collective.host explicitly"), ex.errors());
    }
}
