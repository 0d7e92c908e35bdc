package io.baton.coordinator.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigCommandTest
{
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args)
    {
        return BatonCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void invalidValueExitsWithUsageCodeNamingKeyAndValue()
    {
        assertEquals(BatonCli.EXIT_USAGE, run("config", "--set", "optim.base-lr=-1"));
        assertTrue(err.toString().contains("optim.base-lr = -1: not allowed; allowed: double, > 0"), err.toString());
    }

    @Test
    void anElasticFloorThatIsNotAMultipleOfTheSyncBnGroupCountIsRefused()
    {
        assertEquals(BatonCli.EXIT_USAGE, run("config", "--set", "train.replicas=8", "--set", "train.global-batch=64",
            "--set", "syncbn.group-size=2", "--set", "elastic.min-replicas=2"));
        assertTrue(err.toString().contains("elastic.min-replicas = 2 is not a multiple of the 4 SyncBatchNorm groups "
            + "(train.replicas = 8 / syncbn.group-size = 2), which an elastic stage keeps; allowed: a multiple of 4"),
            err.toString());
        assertEquals(0, run("config", "--set", "train.replicas=8", "--set", "train.global-batch=64",
            "--set", "syncbn.group-size=2", "--set", "elastic.min-replicas=4"), err.toString());
    }

    @Test
    void validConfigurationIsPrintedWithItsTrajectoryHash()
    {
        assertEquals(0, run("config", "--set", "train.epochs=12"));
        assertTrue(out.toString().contains("epochs=12") || out.toString().contains("epochs = 12"), out.toString());
        assertTrue(out.toString().contains("# trajectory hash "), out.toString());
    }

    @Test
    void derivedDefaultsArePrintedResolvedAndSaySoWhileSetValuesAreNot()
    {
        assertEquals(0, run("config", "--set", "train.epochs=3"), err.toString());
        final String text = out.toString().replaceAll("[ \t]", "");
        assertTrue(text.contains("decay-epochs=[\n1,\n2\n]") || text.contains("decay-epochs=[1,2]"), out.toString());
        assertTrue(text.contains("image-size=32"), out.toString());
        assertTrue(out.toString().contains("# data.image-size = 32: not set, derived from model.arch = resnet20\n"),
            out.toString());
        assertTrue(out.toString().contains("# optim.decay-epochs = [1, 2]: not set, derived from optim.decay-fractions "
            + "= [0.5, 0.8], train.epochs = 3, optim.warmup-epochs = 0.0\n"), out.toString());

        out.getBuffer().setLength(0);
        assertEquals(0, run("config", "--set", "model.arch=resnet50", "--set", "optim.decay-epochs=[2]"));
        assertTrue(out.toString().replaceAll("[ \t]", "").contains("image-size=224"), out.toString());
        assertTrue(out.toString().contains("# data.image-size = 224: not set, derived from model.arch = resnet50"),
            out.toString());
        assertTrue(!out.toString().contains("# optim.decay-epochs"), out.toString());
    }

    @Test
    void referenceListsEveryModulesKeys()
    {
        assertEquals(0, run("config", "--reference"));
        assertTrue(out.toString().contains("| `collective.timeout` |"), out.toString());
        assertTrue(out.toString().contains("| `optim.base-lr` |"), out.toString());
    }
}
