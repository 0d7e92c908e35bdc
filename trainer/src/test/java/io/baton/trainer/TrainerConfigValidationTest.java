package io.baton.trainer;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.BatonConfigException;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each validation error of the job configuration names the key, the bad value and what is allowed. */
class TrainerConfigValidationTest
{
    private static final Path CONF = Path.of(System.getProperty("user.dir")).resolveSibling("conf");

    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    private String errorOf(final String... overrides)
    {
        final BatonConfigException ex = assertThrows(BatonConfigException.class,
            () -> loader.load(null, List.of(overrides)));
        assertEquals(1, ex.errors().size(), ex.getMessage());
        return ex.errors().get(0);
    }

    @Test
    void negativeLearningRateIsRefused()
    {
        assertEquals("optim.base-lr = -0.1: not allowed; allowed: double, > 0", errorOf("optim.base-lr=-0.1"));
    }

    @Test
    void zeroLearningRateIsRefused()
    {
        assertEquals("optim.base-lr = 0: not allowed; allowed: double, > 0", errorOf("optim.base-lr=0"));
    }

    @Test
    void globalBatchNotDivisibleByWorldSizeIsRefused()
    {
        assertEquals("train.global-batch = 100 is not divisible by train.replicas = 3; allowed: a multiple of 3"
            + " (e.g. 102)", errorOf("train.replicas=3", "train.global-batch=100"));
    }

    @Test
    void unknownArchitectureIsRefusedListingTheKnownOnes()
    {
        final String error = errorOf("model.arch=resnet9000");
        assertTrue(error.startsWith("model.arch = \"resnet9000\": not allowed; allowed: string, one of ["), error);
        assertTrue(error.contains("resnet152") && error.contains("plain56") && error.contains("wrn-<depth>-<k>"),
            error);
    }

    @Test
    void warmupLongerThanTrainingIsRefused()
    {
        assertEquals("optim.warmup-epochs = 12.0 is not shorter than training (train.epochs = 10); allowed: < 10",
            errorOf("optim.warmup-epochs=12", "optim.decay-epochs=[5]"));
    }

    @Test
    void decayEpochAfterTheEndIsRefused()
    {
        assertEquals("optim.decay-epochs = [5, 20] has epoch 20 not before the end of training (train.epochs = 10);"
            + " allowed: epochs < 10", errorOf("optim.decay-epochs=[5,20]"));
    }

    @Test
    void decayEpochBeforeTheEndOfWarmupIsRefused()
    {
        assertEquals("optim.decay-epochs = [5, 8] has epoch 5 before the end of warmup (optim.warmup-epochs = 6.0);"
            + " allowed: epochs >= 6.0", errorOf("optim.warmup-epochs=6", "optim.decay-epochs=[5,8]"));
    }

    @Test
    void theDefaultDecayOfTenEpochsIsAtFiveAndEightAsWhenItWasWrittenOut()
    {
        final BatonConfig config = loader.defaults();
        assertEquals(List.of(5, 8), config.get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertTrue(config.render().replaceAll("\\s", "").contains("decay-epochs=[5,8]"), config.render());
        assertEquals("derived from optim.decay-fractions = [0.5, 0.8], train.epochs = 10, optim.warmup-epochs = 0.0",
            config.derived().get("optim.decay-epochs"));
    }

    @Test
    void theDefaultDecayFitsAnyRunLengthAndTheWarmup()
    {
        assertEquals(List.of(1, 2), loader.load(null, List.of("train.epochs=3")).get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(List.of(1), loader.load(null, List.of("train.epochs=2")).get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(List.of(), loader.load(null, List.of("train.epochs=1")).get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(List.of(45, 72), loader.load(null, List.of("train.epochs=90")).get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(List.of(6, 8), loader.load(null, List.of("optim.warmup-epochs=6"))
            .get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(List.of(3, 6, 9), loader.load(null, List.of("train.epochs=10",
            "optim.decay-fractions=[0.3, 0.6, 0.9]")).get(TrainerKeys.OPTIM_DECAY_EPOCHS));
    }

    @Test
    void setDecayEpochsAreTakenAsTheyAreAndStillCheckedStrictly()
    {
        final BatonConfig config = loader.load(null, List.of("train.epochs=20", "optim.decay-epochs=[5,8]",
            "optim.decay-fractions=[0.1, 0.2]"));
        assertEquals(List.of(5, 8), config.get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertTrue(!config.derived().containsKey("optim.decay-epochs"), config.derived().toString());
        assertEquals("optim.decay-epochs = [5, 8] has epoch 5 not before the end of training (train.epochs = 3); "
            + "allowed: epochs < 3", errorOf("train.epochs=3", "optim.decay-epochs=[5,8]"));
        assertEquals("optim.decay-fractions = [0.8,0.5]: not allowed; allowed: double list, strictly increasing, "
            + "each 0 < f < 1", errorOf("optim.decay-fractions=[0.8,0.5]"));
    }

    @Test
    void theImageSizeIsTheArchitecturesOwnUnlessSet()
    {
        assertEquals(32, loader.defaults().get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals("derived from model.arch = resnet20", loader.defaults().derived().get("data.image-size"));
        assertEquals(224, loader.load(null, List.of("model.arch=resnet50")).get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(224, loader.load(null, List.of("model.arch=wide_resnet50_2")).get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(32, loader.load(null, List.of("model.arch=plain56")).get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(32, loader.load(null, List.of("model.arch=wrn-16-4")).get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(224, loader.load(null, List.of("data.image-size=224")).get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(64, loader.load(null, List.of("model.arch=resnet50", "data.image-size=64"))
            .get(TrainerKeys.DATA_IMAGE_SIZE));
    }

    @Test
    void aDefaultConfigurationHasTheTrajectoryHashOfTheSameConfigurationWrittenOut()
    {
        final BatonConfig defaults = loader.defaults();
        final BatonConfig written = loader.load(null, List.of("optim.decay-epochs=[5,8]", "data.image-size=32"));
        assertEquals(written.trajectoryHash(), defaults.trajectoryHash());
        assertEquals(written.values(), defaults.values());
        // and so does its rendering, as run.conf and every checkpoint carry it
        assertEquals(defaults.trajectoryHash(), loader.loadText(defaults.render()).trajectoryHash());
        assertEquals(defaults.values(), loader.loadText(defaults.render()).values());
    }

    @Test
    void aRunConfigurationWrittenBeforeDefaultsWereDerivedKeepsItsValues()
    {
        // run.conf of a run started with `--set train.epochs=20` when the defaults were [5, 8] and 224 (it has no
        // optim.decay-fractions: the reference's is used, and not needed)
        final BatonConfig resumed = loader.loadText("model { arch = resnet20 }\ntrain { epochs = 20 }\n"
            + "optim { decay-epochs = [5, 8] }\ndata { image-size = 224 }\n");
        assertEquals(List.of(5, 8), resumed.get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(224, resumed.get(TrainerKeys.DATA_IMAGE_SIZE));
        assertTrue(resumed.derived().isEmpty(), resumed.derived().toString());
    }

    @Test
    void unknownKeyGetsDidYouMean()
    {
        assertEquals("unknown key 'optim.base-rl' in --set optim.base-rl=0.2 (did you mean 'optim.base-lr'?)",
            errorOf("optim.base-rl=0.2"));
    }

    @Test
    void wrongTypeIsRefused()
    {
        assertEquals("train.epochs = \"ten\": wrong type, expected int", errorOf("train.epochs=ten"));
        assertEquals("model.syncbn = \"maybe\": wrong type, expected boolean", errorOf("model.syncbn=maybe"));
    }

    @Test
    void syncBnGroupMustDivideTheReplicas()
    {
        assertEquals("syncbn.group-size = 3 does not divide train.replicas = 4; allowed: 0 or a divisor of 4",
            errorOf("train.replicas=4", "syncbn.group-size=3"));
    }

    @Test
    void overlappedAllReduceNeedsSyncBatchNormAndABucketOfAtLeastOneFloat()
    {
        assertEquals("train.overlap-allreduce = true needs model.syncbn = true: the buckets start where "
            + "SyncBatchNorm's backward waits; allowed: train.overlap-allreduce = false, or model.syncbn = true",
            errorOf("train.overlap-allreduce=true", "model.syncbn=false"));
        assertTrue(errorOf("train.allreduce-bucket=2").startsWith("train.allreduce-bucket = 2"),
            errorOf("train.allreduce-bucket=2"));
    }

    @Test
    void shippedJobFilesAreValid()
    {
        final BatonConfig demo = loader.load(CONF.resolve("demo.conf"), List.of());
        assertEquals("resnet20", demo.get(TrainerKeys.MODEL_ARCH));
        final BatonConfig imagenet = loader.load(CONF.resolve("imagenet-resnet152.conf"), List.of());
        assertEquals("resnet152", imagenet.get(TrainerKeys.MODEL_ARCH));
        assertEquals(List.of(30, 60, 80), imagenet.get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(8192, imagenet.get(TrainerKeys.TRAIN_GLOBAL_BATCH));
    }

    @Test
    void trajectoryHashChangesWithTheSeedButNotTheReplicaCount()
    {
        final String base = loader.defaults().trajectoryHash();
        assertTrue(!base.equals(loader.load(null, List.of("train.seed=1")).trajectoryHash()));
        assertEquals(base, loader.load(null, List.of("train.replicas=4")).trajectoryHash());
    }

    @Test
    void shouldLeaveTheCacheSizeOutOfTheTrajectoryAndRefuseANegativeOne()
    {
        final String base = loader.defaults().trajectoryHash();
        assertEquals(8L << 30, loader.defaults().get(TrainerKeys.DATA_CACHE_SIZE));
        assertEquals(base, loader.load(null, List.of("data.cache-size=100m")).trajectoryHash());
        assertEquals(0L, loader.load(null, List.of("data.cache-size=0")).get(TrainerKeys.DATA_CACHE_SIZE));
        final String error = errorOf("data.cache-size=-1");
        assertEquals("data.cache-size = -1: wrong type, expected bytes", error);
    }
}
