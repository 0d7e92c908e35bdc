package io.baton.coordinator.train;

import io.baton.common.config.BatonConfig;
import io.baton.trainer.TrainerKeys;
import io.baton.trainer.data.GlobalBatchSampler;
import io.baton.trainer.data.PartialBatchPolicy;
import io.baton.trainer.recipe.TrainingRecipe;
import io.baton.trainer.schedule.LrSchedule;

import java.util.Locale;

/**
 * The shape of a training run, known before it starts: world size, batches, steps and the learning-rate plan.
 * Printed by {@code baton train --dry-run} and used by the driver's progress line.
 */
public record TrainPlan(
    int worldSize,
    int globalBatch,
    int perReplicaBatch,
    int trainSamples,
    int valSamples,
    int numClasses,
    int stepsPerEpoch,
    int epochs,
    String lrPlan)
{
    public static TrainPlan of(final BatonConfig config, final int trainSamples, final int valSamples,
        final int numClasses)
    {
        final int worldSize = config.get(TrainerKeys.TRAIN_REPLICAS);
        final int globalBatch = config.get(TrainerKeys.TRAIN_GLOBAL_BATCH);
        final GlobalBatchSampler sampler = sampler(config, trainSamples, worldSize);
        final LrSchedule schedule = TrainingRecipe.schedule(config);
        return new TrainPlan(worldSize, globalBatch, globalBatch / worldSize, trainSamples, valSamples, numClasses,
            sampler.stepsPerEpoch(), config.get(TrainerKeys.TRAIN_EPOCHS), schedule.describe(sampler.stepsPerEpoch()));
    }

    /**
     * The world-size-invariant sampler of the training split for {@code worldSize} replicas. Refuses a
     * {@code train.drop-last = false} whose last global batch would leave a replica an empty slice.
     */
    public static GlobalBatchSampler sampler(final BatonConfig config, final int trainSamples, final int worldSize)
    {
        final int globalBatch = config.get(TrainerKeys.TRAIN_GLOBAL_BATCH);
        if (config.get(TrainerKeys.TRAIN_DROP_LAST) && globalBatch > trainSamples)
        {
            throw new IllegalArgumentException(TrainerKeys.TRAIN_GLOBAL_BATCH.name() + " = " + globalBatch
                + " is larger than the training split (" + trainSamples + " samples) and "
                + TrainerKeys.TRAIN_DROP_LAST.name() + " = true leaves no batch; lower the batch or use more data");
        }
        final int remainder = trainSamples % globalBatch;
        if (!config.get(TrainerKeys.TRAIN_DROP_LAST) && remainder > 0 && remainder < worldSize)
        {
            // Replica r's slice of the last batch is [r*g/N, (r+1)*g/N): with g < N some are empty, and DL4J's
            // layers refuse an empty minibatch. Training with them would need every such replica to join each
            // SyncBatchNorm and gradient collective with zero contributions, without running its network.
            throw new IllegalArgumentException(TrainerKeys.TRAIN_DROP_LAST.name() + " = false: the last global batch "
                + "of every epoch has " + remainder + " sample(s) (" + trainSamples + " training samples mod "
                + TrainerKeys.TRAIN_GLOBAL_BATCH.name() + " = " + globalBatch + "), fewer than the " + worldSize
                + " replicas (" + TrainerKeys.TRAIN_REPLICAS.name() + " = " + config.get(TrainerKeys.TRAIN_REPLICAS)
                + "), so a replica would get an empty slice, which cannot be trained; set "
                + TrainerKeys.TRAIN_DROP_LAST.name() + " = true, or a global batch whose remainder is 0 or at least "
                + "the replicas");
        }
        return new GlobalBatchSampler(trainSamples, globalBatch, worldSize, config.get(TrainerKeys.TRAIN_SEED),
            config.get(TrainerKeys.TRAIN_DROP_LAST) ? PartialBatchPolicy.DROP : PartialBatchPolicy.KEEP_UNEVEN);
    }

    public long totalSteps()
    {
        return (long) stepsPerEpoch * epochs;
    }

    public String describe()
    {
        return String.format(Locale.ROOT,
            "world size %d replicas%nglobal batch %d = %d per replica%ntraining samples %d, validation samples %d, "
                + "classes %d%nsteps per epoch %d, epochs %d, total steps %d%n%s",
            worldSize, globalBatch, perReplicaBatch, trainSamples, valSamples, numClasses, stepsPerEpoch, epochs,
            totalSteps(), lrPlan);
    }
}
