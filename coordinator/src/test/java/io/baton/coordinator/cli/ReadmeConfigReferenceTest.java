package io.baton.coordinator.cli;

import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigReference;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's configuration reference is the generated one: regenerate with {@code baton config --reference}. */
class ReadmeConfigReferenceTest
{
    @Test
    void readmeConfigurationReferenceMatchesTheDeclaredKeys() throws Exception
    {
        final Path readme = Path.of(System.getProperty("user.dir")).resolveSibling("README.md");
        final String text = Files.readString(readme);
        final int begin = text.indexOf(ConfigReference.BEGIN_MARKER);
        final int end = text.indexOf(ConfigReference.END_MARKER);
        assertTrue(begin >= 0 && end > begin, "README.md lacks the config-reference markers");
        final String inReadme = text.substring(begin + ConfigReference.BEGIN_MARKER.length() + 1, end);
        assertEquals(ConfigReference.markdown(ConfigDef.discover()), inReadme,
            "README.md's configuration reference is stale: replace the table between the markers with the output "
                + "of `deploy/bin/baton config --reference`");
    }
}
