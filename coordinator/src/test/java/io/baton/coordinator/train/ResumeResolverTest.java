package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.common.config.ConfigDef;
import io.baton.common.config.ConfigLoader;
import io.baton.trainer.TrainerKeys;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A resumed run keeps its own values of the keys the user did not set, whatever they derive to now. */
class ResumeResolverTest
{
    private final ConfigLoader loader = new ConfigLoader(ConfigDef.discover());

    /** run.conf of a run started with `--set train.epochs=20` when the defaults were [5, 8] and 224x224. */
    private final BatonConfig before = loader.loadText("model { arch = resnet20 }\ntrain { epochs = 20 }\n"
        + "optim { decay-epochs = [5, 8] }\ndata { image-size = 224 }\n");

    private ResumeResolver.Kept resume(final String... overrides)
    {
        final BatonConfig user = loader.load(null, List.of(overrides));
        return ResumeResolver.keepRunsValues(before, user, user.derived().keySet());
    }

    @Test
    void aRunStartedBeforeTheDefaultsWereDerivedResumesWithItsOwnValuesAndNoDifference()
    {
        final ResumeResolver.Kept kept = resume("train.epochs=20");
        assertEquals(List.of(5, 8), kept.config().get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(224, kept.config().get(TrainerKeys.DATA_IMAGE_SIZE));
        assertEquals(List.of(), ConfigDiff.trajectory(before, kept.config()));
        assertEquals(List.of("data.image-size = 224 as the run was started (not set; derived now it would be 32)",
            "optim.decay-epochs = [5, 8] as the run was started (not set; derived now it would be [10, 16])"),
            kept.lines());
        assertEquals(before.trajectoryHash(), kept.config().trajectoryHash());
    }

    @Test
    void aDefaultRunOfTenEpochsHasNothingToKeep()
    {
        final BatonConfig old = loader.loadText("optim { decay-epochs = [5, 8] }\ndata { image-size = 32 }\n");
        final BatonConfig user = loader.defaults();
        final ResumeResolver.Kept kept = ResumeResolver.keepRunsValues(old, user, user.derived().keySet());
        assertSame(user, kept.config());
        assertEquals(List.of(), ConfigDiff.trajectory(old, user));
    }

    @Test
    void setValuesAreTheUsersAndDifferencesAsBefore()
    {
        final ResumeResolver.Kept kept = resume("train.epochs=20", "optim.decay-epochs=[10,16]",
            "data.image-size=32");
        assertEquals(List.of(), kept.lines());
        assertEquals(List.of(new ConfigDiff.Difference("data.image-size", "224", "32"),
            new ConfigDiff.Difference("optim.decay-epochs", "[5, 8]", "[10, 16]")),
            ConfigDiff.trajectory(before, kept.config()));
    }

    @Test
    void aRunsValueThatNoLongerFitsIsNotKeptButReportedAsADifference()
    {
        // 6 epochs (a trajectory change anyway): [5, 8] would decay past the end
        final ResumeResolver.Kept kept = resume("train.epochs=6");
        assertEquals(List.of(3, 4), kept.config().get(TrainerKeys.OPTIM_DECAY_EPOCHS));
        assertEquals(224, kept.config().get(TrainerKeys.DATA_IMAGE_SIZE));
        assertTrue(ConfigDiff.trajectory(before, kept.config())
            .contains(new ConfigDiff.Difference("optim.decay-epochs", "[5, 8]", "[3, 4]")), kept.toString());
    }

    @Test
    void aChangedAugmentationOrNormalisationKeyIsATrajectoryDifferenceThatRefusesTheResume()
    {
        final BatonConfig old = loader.defaults();
        final BatonConfig now = loader.load(null, List.of("data.augment.pad-crop=4", "data.augment.flip=false",
            "data.eval-resize-ratio=null", "data.normalise.std=[0.25, 0.25, 0.25]"));
        final List<ConfigDiff.Difference> differences = ConfigDiff.trajectory(old, now);
        assertEquals(List.of(new ConfigDiff.Difference("data.augment.flip", "true", "false"),
            new ConfigDiff.Difference("data.augment.pad-crop", "0", "4"),
            new ConfigDiff.Difference("data.eval-resize-ratio", "1.1428571428571428", "unset"),
            new ConfigDiff.Difference("data.normalise.std", "[0.229, 0.224, 0.225]", "[0.25, 0.25, 0.25]")),
            differences);
        assertTrue(new ResumeRefusedException("ckpt-000000000002", differences).getMessage()
            .contains("data.augment.flip: true -> false, data.augment.pad-crop: 0 -> 4"));
        assertEquals(List.of(), ConfigDiff.trajectory(old, loader.load(null,
            List.of("data.augment.scale=[0.08, 1.0]", "data.normalise.mean=[0.485, 0.456, 0.406]"))));
    }

    @Test
    void dctScalingIsATrajectoryDifferenceButTheJpegDecoderIsNot()
    {
        final BatonConfig old = loader.defaults();
        assertEquals(List.of(new ConfigDiff.Difference("data.jpeg-dct-scaling", "false", "true")),
            ConfigDiff.trajectory(old, loader.load(null, List.of("data.jpeg-dct-scaling=true"))));
        // turbo hands the JDK reader every file it would not decode to the same pixels (TurboJpegTest)
        assertEquals(List.of(), ConfigDiff.trajectory(old, loader.load(null, List.of("data.jpeg-decoder=imageio"))));
    }
}
